// The queue worker's handling of ENOBUFS on its queue socket (a part of QueueWorker; see
// docs/daemon.md, "Overload"). The kernel could not deliver some packets to the socket and
// dropped them (fail-closed) or accepted them uninspected (fail-open); what is queued stays
// valid. Counted (WorkerStats::overruns), one warning when a burst starts, one line with its
// total when it ended; the worker goes on serving.
#include "daemon/log.h"
#include "daemon/queue_worker.h"

namespace ftpalg::daemon {

void QueueWorker::onOverrun(uint64_t nowNs) {
  bump(stats_.overruns);
  if (!overrunBurst_.note(nowNs)) return;
  logf(LogLevel::Warning,
       "queue {}: receive buffer overrun (ENOBUFS): the kernel could not deliver packets to "
       "ftpalgd and {} them; counting until the burst ends",
       settings_.queue.queueNum,
       settings_.queue.failOpen ? "accepted (fail-open, uninspected)" : "dropped (fail-closed)");
}

void QueueWorker::expireOverrun(uint64_t nowNs) {
  BurstLog::Ended e;
  if (overrunBurst_.end(nowNs, e)) {
    logf(LogLevel::Warning, "queue {}: receive overruns ended: {} ENOBUFS in {:.1f} s",
         settings_.queue.queueNum, e.total, static_cast<double>(e.durationNs) / 1e9);
  }
  stats_.socketDrops.store(queue_.socketDrops(), std::memory_order_relaxed);
}

}  // namespace ftpalg::daemon
