// The engine counters' published copy: what a reader gets is one whole publish, also while
// the writer publishes on another thread.
#include "daemon/stats_snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

namespace ftpalg::test {
namespace {

TEST(StatsSnapshot, ReadsWhatWasPublished) {
  daemon::StatsSnapshot s;
  EXPECT_EQ(s.read().publishes, 0u);
  daemon::EngineStats e;
  e.counters[3] = 42;
  e.sessions = 5;
  e.announcements = 6;
  s.publish(e);
  const daemon::EngineStats r = s.read();
  EXPECT_EQ(r.counters[3], 42u);
  EXPECT_EQ(r.sessions, 5u);
  EXPECT_EQ(r.announcements, 6u);
  EXPECT_EQ(r.publishes, 1u);
}

TEST(StatsSnapshot, PublishesFromAnEngine) {
  core::Engine engine(core::EngineConfig{}, nullptr);
  daemon::StatsSnapshot s;
  s.publish(engine);
  EXPECT_EQ(s.read().publishes, 1u);
  EXPECT_EQ(s.read().counter(core::Counter::Segments), 0u);
}

TEST(StatsSnapshot, PublishCostPerServeRound) {
  // Printed, not asserted (a loaded machine): what each serve round adds to a queue thread.
  core::Engine engine(core::EngineConfig{}, nullptr);
  daemon::StatsSnapshot s;
  constexpr int kRounds = 200000;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) s.publish(engine);
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  std::printf("publish: %.0f ns per serve round\n", ns / kRounds);
  EXPECT_EQ(s.read().publishes, static_cast<uint64_t>(kRounds));
}

TEST(StatsSnapshot, AReaderNeverSeesHalfAPublish) {
  daemon::StatsSnapshot s;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    daemon::EngineStats e;
    for (uint64_t v = 1; !stop.load(); ++v) {
      e.counters.fill(v);
      e.sessions = v;
      s.publish(e);
    }
  });
  size_t torn = 0;
  for (int i = 0; i < 20000; ++i) {
    const daemon::EngineStats r = s.read();
    for (uint64_t c : r.counters) torn += c != r.sessions;
  }
  stop.store(true);
  writer.join();
  EXPECT_EQ(torn, 0u);
}

}  // namespace
}  // namespace ftpalg::test
