// Overload accounting of ftpalgd (docs/daemon.md, "Overload"), on the main thread, off the
// packet path: once a second it reads the kernel's counters of every queue
// (/proc/net/netfilter/nfnetlink_queue: queue_dropped, user_dropped, the queue length) and the
// workers' socket counters (sk_drops), turns them into deltas, counts the totals and logs one
// warning when a burst of drops starts and one line with its total when it has ended.
//
// What can be counted depends on the mode. Fail-closed: every packet the kernel could not queue
// is counted (queue full: queue_dropped; socket full: user_dropped). Fail-open: the kernel
// accepts them uninspected and counts neither; socket-full cases still show in sk_drops, and a
// queue found full when sampled (queue length >= queue_maxlen) is reported as such.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/burst_log.h"
#include "daemon/worker_stats.h"
#include "ftpalg/kernel/queue_stats_proc.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// Per-queue overload counters and their once-per-burst log (see above).
class OverloadMonitor {
 public:
  // One queue as the monitor sees it (stats: the worker's, may be null in tests).
  struct Queue {
    uint16_t num = 0;
    bool failOpen = false;
    uint32_t maxLen = 0;
    const WorkerStats* stats = nullptr;
  };
  // Totals of one queue since start.
  struct Totals {
    uint64_t queueFull = 0;    // queue_dropped deltas (fail-closed)
    uint64_t socketFull = 0;   // user_dropped deltas (fail-closed) or sk_drops deltas (fail-open)
    uint64_t fullSamples = 0;  // fail-open: samples that found the queue at queue_maxlen
  };

  explicit OverloadMonitor(std::vector<Queue> queues);

  // Opens the kernel's statistics file (0440 root: before privileges are dropped). A failure
  // is logged once; the socket counters are still watched.
  Status open(const char* path = kernel::QueueStatsFile::kPath);
  // One pass: reads the file (when open) and the workers' counters, then observe().
  void tick(uint64_t nowNs);
  // The accounting of one pass, given the file's lines and the sockets' drop counters (one
  // per queue, in the constructor's order). The first pass only records the baseline.
  void observe(uint64_t nowNs, const std::vector<kernel::QueueProcStats>& lines,
               const std::vector<uint64_t>& socketDrops);
  // Logs the bursts still running (at stop).
  void finish(uint64_t nowNs);

  // ", kernel drops N (...)" for the STATUS= line; empty while nothing was lost.
  [[nodiscard]] std::string statusText() const;
  [[nodiscard]] const Totals& totals(size_t i) const { return state_[i].totals; }

 private:
  struct State {
    Queue q;
    bool seen = false;  // a baseline exists
    uint32_t queueDropped = 0;
    uint32_t userDropped = 0;
    uint64_t socketDrops = 0;
    Totals totals;
    Totals burst;  // of the burst running now
    BurstLog log;
  };
  void observeQueue(State& st, uint64_t nowNs, const kernel::QueueProcStats* line,
                    uint64_t socketDrops);
  void endBurst(State& st, uint64_t nowNs, bool force);

  std::vector<State> state_;
  kernel::QueueStatsFile file_;
  bool readFailed_ = false;  // logged once
  std::vector<kernel::QueueProcStats> lines_;
  std::vector<uint64_t> drops_;
};

}  // namespace ftpalg::daemon
