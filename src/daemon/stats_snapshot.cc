#include "daemon/stats_snapshot.h"

namespace ftpalg::daemon {

void StatsSnapshot::publish(const core::Engine& engine) {
  EngineStats s;
  for (size_t i = 0; i < s.counters.size(); ++i) {
    s.counters[i] = engine.counter(static_cast<core::Counter>(i));
  }
  s.sessions = engine.sessionCount();
  s.announcements = engine.outstandingAnnouncements();
  publish(s);
}

void StatsSnapshot::publish(const EngineStats& s) {
  const uint64_t seq = seq_.load(std::memory_order_relaxed);
  seq_.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  for (size_t i = 0; i < s.counters.size(); ++i) {
    words_[i].store(s.counters[i], std::memory_order_relaxed);
  }
  const size_t n = s.counters.size();
  words_[n].store(s.sessions, std::memory_order_relaxed);
  words_[n + 1].store(s.announcements, std::memory_order_relaxed);
  words_[n + 2].store(++publishes_, std::memory_order_relaxed);
  seq_.store(seq + 2, std::memory_order_release);
}

EngineStats StatsSnapshot::read() const {
  EngineStats s;
  while (true) {
    const uint64_t before = seq_.load(std::memory_order_acquire);
    if ((before & 1) != 0) continue;  // a publish is under way: it takes nanoseconds
    for (size_t i = 0; i < s.counters.size(); ++i) {
      s.counters[i] = words_[i].load(std::memory_order_relaxed);
    }
    const size_t n = s.counters.size();
    s.sessions = words_[n].load(std::memory_order_relaxed);
    s.announcements = words_[n + 1].load(std::memory_order_relaxed);
    s.publishes = words_[n + 2].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (seq_.load(std::memory_order_relaxed) == before) return s;
  }
}

}  // namespace ftpalg::daemon
