// What a queue worker counts for the metrics endpoint (docs/daemon.md, "Metrics") besides
// WorkerStats: every event by kind, verdict and reason, and the verdict latency (packet
// received -> verdict sent) as a fixed-bucket histogram. Written by the worker's thread only
// (relaxed stores, no lock, no allocation), read by the metrics thread at any time: a reader
// may see one histogram bucket a few observations ahead of another, never a torn value.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "daemon/clock.h"
#include "daemon/worker_stats.h"
#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// Upper bounds (nanoseconds, inclusive) of the latency histogram's buckets; +Inf follows.
inline constexpr std::array<uint64_t, 19> kLatencyBoundsNs = {
    10'000,        25'000,        50'000,        100'000,       250'000,
    500'000,       1'000'000,     2'500'000,     5'000'000,     10'000'000,
    25'000'000,    50'000'000,    100'000'000,   250'000'000,   500'000'000,
    1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

// Verdict latency histogram: per-bucket (not cumulative) counts, the last one +Inf.
struct LatencyHistogram {
  std::array<std::atomic<uint64_t>, kLatencyBoundsNs.size() + 1> buckets{};
  std::atomic<uint64_t> sumNs{0};

  // Index of the bucket `ns` falls in.
  static size_t bucketOf(uint64_t ns) {
    size_t i = 0;
    while (i < kLatencyBoundsNs.size() && ns > kLatencyBoundsNs[i]) ++i;
    return i;
  }
  void observe(uint64_t ns) {
    bump(buckets[bucketOf(ns)]);
    bump(sumNs, ns);
  }
};

// Events by kind x verdict x reason.
struct EventCounts {
  static constexpr size_t kKinds = static_cast<size_t>(core::EventKind::Count);
  static constexpr size_t kVerdicts = 3;  // core::Verdict: Admit, Refuse, Pass
  static constexpr size_t kReasons = static_cast<size_t>(core::Reason::Count);
  std::array<std::atomic<uint64_t>, kKinds * kVerdicts * kReasons> n{};

  static size_t index(core::EventKind k, core::Verdict v, core::Reason r) {
    return (static_cast<size_t>(k) * kVerdicts + static_cast<size_t>(v)) * kReasons +
           static_cast<size_t>(r);
  }
  void count(const core::Event& e) {
    if (e.kind < core::EventKind::Count && static_cast<size_t>(e.verdict) < kVerdicts &&
        e.reason < core::Reason::Count) {
      bump(n[index(e.kind, e.verdict, e.reason)]);
    }
  }
  [[nodiscard]] uint64_t get(core::EventKind k, core::Verdict v, core::Reason r) const {
    return n[index(k, v, r)].load(std::memory_order_relaxed);
  }
};

// The verdicts of one serve round wait here with their packets' receive times until the
// round's sendmsg; flushed() then observes each one's latency.
class VerdictTimer {
 public:
  explicit VerdictTimer(LatencyHistogram& h) : h_(h) {}
  // A verdict for a packet received at `receivedNs` is queued for sending.
  void issued(uint64_t receivedNs) {
    if (count_ == pending_.size()) flushed(monotonicNs());  // more than a round has: early
    pending_[count_++] = receivedNs;
  }
  // The queued verdicts left at `sentNs`.
  void flushed(uint64_t sentNs) {
    for (size_t i = 0; i < count_; ++i) {
      h_.observe(sentNs > pending_[i] ? sentNs - pending_[i] : 0);
    }
    count_ = 0;
  }
  [[nodiscard]] size_t pending() const { return count_; }

 private:
  LatencyHistogram& h_;
  std::array<uint64_t, 512> pending_{};
  size_t count_ = 0;
};

// Everything of the above for one worker.
struct WorkerMetrics {
  EventCounts events;
  LatencyHistogram latency;
};

}  // namespace ftpalg::daemon
