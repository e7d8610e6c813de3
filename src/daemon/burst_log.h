// Once-per-burst reporting of a trouble that comes in floods (queue overruns, kernel drops): the
// first event of a burst is reported, the others only counted, and when no event came for
// `quietNs` the burst has ended and its total is reported once. Time is an argument.
#pragma once

#include <cstdint>

namespace ftpalg::daemon {

// Burst bookkeeping of one kind of event (see above). One thread.
class BurstLog {
 public:
  // What a finished burst amounted to.
  struct Ended {
    uint64_t total = 0;       // events in the burst
    uint64_t durationNs = 0;  // first event to last event
  };

  explicit BurstLog(uint64_t quietNs = 2'000'000'000) : quietNs_(quietNs) {}

  // Counts `n` (> 0) events at `nowNs`; true when they start a new burst (report it now).
  bool note(uint64_t nowNs, uint64_t n = 1);
  // True once per burst, when none of its events came for quietNs as of `nowNs`; `out` gets
  // its total and length. Call periodically.
  bool end(uint64_t nowNs, Ended& out);
  [[nodiscard]] bool active() const { return active_; }
  [[nodiscard]] uint64_t total() const { return total_; }

 private:
  uint64_t quietNs_;
  bool active_ = false;
  uint64_t firstNs_ = 0;
  uint64_t lastNs_ = 0;
  uint64_t total_ = 0;
};

}  // namespace ftpalg::daemon
