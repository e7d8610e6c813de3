// The daemon's clocks: the engine and every timer run on CLOCK_MONOTONIC; event timestamps are
// converted to CLOCK_REALTIME when written.
#pragma once

#include <time.h>

#include <cstdint>

namespace ftpalg::daemon {

// Nanoseconds of clock `id`.
inline uint64_t clockNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t monotonicNs() { return clockNs(CLOCK_MONOTONIC); }

}  // namespace ftpalg::daemon
