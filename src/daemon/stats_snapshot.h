// A copy of one engine's counters that other threads may read while the worker's thread runs
// the engine (the metrics endpoint; a status command may use it too). The worker publishes it
// once per serve round; readers take a consistent copy. A seqlock over relaxed atomics: the
// writer never waits, a reader retries while a publish is under way.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// The values one publish carries.
struct EngineStats {
  std::array<uint64_t, static_cast<size_t>(core::Counter::Count)> counters{};
  uint64_t sessions = 0;       // live sessions
  uint64_t announcements = 0;  // outstanding admitted announcements
  uint64_t publishes = 0;      // how many publishes this copy is the last of (0: none yet)

  [[nodiscard]] uint64_t counter(core::Counter c) const { return counters[static_cast<size_t>(c)]; }
};

// The published copy (see above). One writer thread, any number of readers.
class StatsSnapshot {
 public:
  // Writer: copies the engine's counters now.
  void publish(const core::Engine& engine);
  // Writer: publishes `s` as it is (tests, and publish()).
  void publish(const EngineStats& s);
  // Reader: the last published copy.
  [[nodiscard]] EngineStats read() const;

 private:
  static constexpr size_t kWords = static_cast<size_t>(core::Counter::Count) + 3;
  std::atomic<uint64_t> seq_{0};  // odd while a publish is under way
  std::array<std::atomic<uint64_t>, kWords> words_{};
  uint64_t publishes_ = 0;  // writer's own
};

}  // namespace ftpalg::daemon
