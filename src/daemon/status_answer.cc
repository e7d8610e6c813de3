// The queue worker's answers to the control socket (a part of QueueWorker; see
// status_mailbox.h): built on the worker's own thread, between two batches, from the engine's
// read-only session views and the worker's recent events.
#include "daemon/clock.h"
#include "daemon/queue_worker.h"
#include "daemon/status_json.h"

namespace ftpalg::daemon {

void QueueWorker::answerStatus(uint64_t nowNs) {
  status_.serve([&](const StatusQuestion& q) {
    const std::string_view mode = settings_.expectationMode ? "expectation" : "pinhole";
    if (q.kind == StatusQuestion::Kind::Sessions) return sessionsAnswer(engine_, nowNs, mode);
    const auto offset = static_cast<int64_t>(clockNs(CLOCK_REALTIME) - monotonicNs());
    return sessionAnswer(engine_, recent_, q.flow, nowNs, offset, mode);
  });
}

}  // namespace ftpalg::daemon
