// The configuration of one queue worker, derived from the daemon's configuration: queue, engine
// policy and limits, pinhole table. Both kernel modes start from it.
#pragma once

#include <cstdint>

#include "daemon/config.h"
#include "daemon/queue_worker.h"

namespace ftpalg::daemon {

// The settings of the worker serving queue `queue`.
WorkerSettings workerSettings(const DaemonConfig& cfg, uint16_t queue);

}  // namespace ftpalg::daemon
