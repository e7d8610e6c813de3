// What a queue worker notes of a queued packet that is not on a control port: counted by kind
// (an expected connection's, i.e. a data connection's, or any other), logged at debug level one
// line a packet, and the first data-connection packet of a worker once at warning level: in
// expectation mode none should ever be queued (docs/daemon.md, "Data connections are never
// queued"), and the lane counts these lines per case.
#pragma once

#include <cstdint>

#include "daemon/worker_stats.h"
#include "ftpalg/core/packet.h"
#include "ftpalg/kernel/queue_socket.h"

namespace ftpalg::daemon {

// Counts and logs one non-control packet (stats.nonControl is bumped by the caller).
void noteNonControl(const kernel::QueuedPacket& packet, const core::PacketView& view,
                    WorkerStats& stats, uint16_t queueNum);

}  // namespace ftpalg::daemon
