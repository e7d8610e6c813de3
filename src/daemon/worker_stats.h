// Counters of one queue worker: written by its thread only, read by the main thread (STATUS=
// lines and the stop summary). Shared by the worker, its admitter and its failure log.
#pragma once

#include <atomic>
#include <cstdint>

namespace ftpalg::daemon {

// Counters of one worker: written by its thread only, read by the main thread (STATUS=).
struct WorkerStats {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> parseErrors{0};  // not an IP/TCP packet we can read: accepted
  std::atomic<uint64_t> nonControl{0};   // not on a control port: accepted
  std::atomic<uint64_t> rewritten{0};    // packets forwarded with new bytes
  std::atomic<uint64_t> dropped{0};      // NF_DROP verdicts
  std::atomic<uint64_t> admitted{0};     // pinholes installed
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> pinholeFailures{0};  // admit failed: announcement dropped (fail closed)
  std::atomic<uint64_t> noConntrack{0};      // expectation mode: packet without NFQA_CT
  // Expectation mode: outstanding expectations deleted when their control connection ended
  // (FIN both ways, RST, or idle expiry), and deletions that failed other than with ENOENT.
  std::atomic<uint64_t> expectationsRemoved{0};
  std::atomic<uint64_t> expectationRemoveFailures{0};
  std::atomic<uint64_t> liberalFailures{0};
  std::atomic<uint64_t> natLookupFailures{
      0};  // pinhole mode: conntrack could not say (no entry, error)
  std::atomic<uint64_t> rebuildFailures{0};  // rewrite did not fit: packet dropped
  std::atomic<uint64_t> unknownHandles{0};   // engine named a packet we do not have
  std::atomic<uint64_t> poolFull{0};         // could not keep a held packet: dropped
  std::atomic<uint64_t> held{0};             // packets currently held
  std::atomic<uint64_t> sessions{0};         // engine sessions (refreshed once a second)
  // Engine resource limits hit (LimitReport::kWatched counters summed; once a second).
  std::atomic<uint64_t> limitsHit{0};
  std::atomic<uint64_t> eventsSuppressed{0};  // over a session's or the worker's event budget
  // Announcements withdrawn (server refused the command, session ended) and withdrawals the
  // kernel refused other than with "gone already".
  std::atomic<uint64_t> withdrawn{0};
  std::atomic<uint64_t> withdrawFailures{0};
  // Overload (docs/daemon.md, "Overload"): receives that failed with ENOBUFS, and the queue
  // socket's sk_drops (messages the kernel could not deliver), sampled once a second.
  std::atomic<uint64_t> overruns{0};
  std::atomic<uint64_t> socketDrops{0};
  std::atomic<uint64_t> rounds{0};  // serve rounds completed: the watchdog's heartbeat
  // Pinhole mode: liberal entries put back to ESTABLISHED after an RST the engine ignored (out
  // of window), and restores that failed.
  std::atomic<uint64_t> rstRestored{0};
  std::atomic<uint64_t> restoreFailures{0};
  // Of nonControl: packets of expected connections (expectation mode: a data connection that
  // carries a queued helper; 0 while the data helper works).
  std::atomic<uint64_t> nonControlExpected{0};
  // conntrack_state = "labels": records written into control connections' labels, writes that
  // failed, and sessions picked up mid-stream with nonzero offsets read from their labels.
  std::atomic<uint64_t> labelWrites{0};
  std::atomic<uint64_t> labelWriteFailures{0};
  std::atomic<uint64_t> labelOffsetsRead{0};
  // Pinhole mode, withdrawals off the packet path (withdraw_queue.h): taken by the withdrawal
  // thread, done synchronously because its queue was full, admits that first finished a pending
  // withdrawal of one of their keys, and those pending now (a gauge, refreshed each round).
  std::atomic<uint64_t> withdrawDeferred{0};
  std::atomic<uint64_t> withdrawSyncFallbacks{0};
  std::atomic<uint64_t> withdrawOrdered{0};
  std::atomic<uint64_t> withdrawPending{0};
};

// Adds `n` to a counter only its own thread writes (no read-modify-write instruction needed).
inline void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace ftpalg::daemon
