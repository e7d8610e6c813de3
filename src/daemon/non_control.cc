#include "daemon/non_control.h"

#include "daemon/log.h"
#include "daemon/text.h"
#include "ftpalg/kernel/conntrack.h"

namespace ftpalg::daemon {

void noteNonControl(const kernel::QueuedPacket& packet, const core::PacketView& view,
                    WorkerStats& stats, uint16_t queueNum) {
  // Only expectation mode's packets carry NFQA_CT; pinhole mode's are all "other".
  const bool expected = !packet.ct.empty() && kernel::packetCtExpected(packet.ct);
  if (expected) {
    if (stats.nonControlExpected.load(std::memory_order_relaxed) == 0) {
      logf(LogLevel::Warning,
           "queue {}: a data-connection packet ({} -> {}) reached the queue: the kernel "
           "attached a queued helper to an expected connection (accepted; counted)",
           queueNum, endpointText({view.src, view.sport}), endpointText({view.dst, view.dport}));
    }
    bump(stats.nonControlExpected);
  }
  if (logEnabled(LogLevel::Debug)) {
    logf(LogLevel::Debug, "queue {}: non-control packet ({}) {} -> {} accepted", queueNum,
         expected ? "data connection" : "other", endpointText({view.src, view.sport}),
         endpointText({view.dst, view.dport}));
  }
}

}  // namespace ftpalg::daemon
