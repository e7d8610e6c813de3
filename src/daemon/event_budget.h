// How many events a queue worker writes: a token bucket per control connection and one for the
// whole worker, so a host sending junk announcement lines (or any other event flood) cannot
// turn bytes on the wire into a larger number of bytes on disk. What a bucket refuses is
// counted and reported once a second as one "suppressed" event (EventLog::expire).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// Bucket sizes (events) and refill rates (events per second).
struct EventBudgetConfig {
  uint32_t sessionBurst = 64;
  uint32_t sessionPerSecond = 4;
  uint32_t globalBurst = 1000;
  uint32_t globalPerSecond = 200;
};

// Token buckets over CLOCK_MONOTONIC nanoseconds. Sessions share kSessionSlots buckets by a
// seeded hash of their flow: bounded memory whatever the number of sessions, and a colliding
// session at worst shares a flooder's budget. Used by one thread.
class EventBudget {
 public:
  static constexpr size_t kSessionSlots = 4096;

  explicit EventBudget(const EventBudgetConfig& cfg = {}, uint64_t seed = 0);

  // Takes one event of `flow`; false when its session's or the global bucket is empty (the
  // event is then counted as suppressed).
  bool take(const core::FlowKey& flow, uint64_t nowNs);

  // Events refused since the last call, by the bucket that refused them.
  struct Suppressed {
    uint64_t bySession = 0;
    uint64_t byGlobal = 0;
    [[nodiscard]] uint64_t total() const { return bySession + byGlobal; }
  };
  Suppressed takeSuppressed();

 private:
  // Tokens in thousandths of an event, so that slow rates refill between close calls.
  struct Bucket {
    uint64_t milli = 0;
    uint64_t lastNs = 0;
    bool used = false;
  };
  static bool takeFrom(Bucket& b, uint32_t burst, uint32_t perSecond, uint64_t nowNs);
  [[nodiscard]] size_t slotOf(const core::FlowKey& flow) const;

  EventBudgetConfig cfg_;
  uint64_t seed_;
  Bucket global_;
  std::vector<Bucket> sessions_;
  Suppressed suppressed_;
};

}  // namespace ftpalg::daemon
