// The watchdog pings only while every queue thread makes progress: the heartbeat check, and
// the pinging thread with a fake ping.
#include "daemon/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ftpalg::test {
namespace {

using daemon::HeartbeatCheck;

TEST(HeartbeatCheck, AllMovedOnlyWhenEveryBeatAdvanced) {
  std::atomic<uint64_t> a{0};
  std::atomic<uint64_t> b{5};
  HeartbeatCheck check({&a, &b});
  EXPECT_FALSE(check.allMoved());  // nothing moved yet
  a = 1;
  EXPECT_FALSE(check.allMoved());  // b is stuck
  EXPECT_EQ(check.stuck(), 1u);
  b = 6;
  EXPECT_TRUE(check.allMoved());
  EXPECT_FALSE(check.allMoved());  // compared with the last good values
  EXPECT_EQ(check.stuck(), 0u);
  a = 2;
  b = 7;
  EXPECT_TRUE(check.allMoved());
}

TEST(Watchdog, DisabledRunsNothing) {
  std::atomic<uint64_t> a{0};
  std::atomic<int> pings{0};
  {
    daemon::Watchdog w(
        0, {&a}, [&] { ++pings; }, [](size_t) {});
  }
  EXPECT_EQ(pings.load(), 0);
}

TEST(Watchdog, PingsWhileBeatingAndStopsWhenAThreadIsStuck) {
  std::atomic<uint64_t> live{0};
  std::atomic<uint64_t> second{0};
  std::atomic<bool> beatSecond{true};
  std::atomic<bool> run{true};
  std::thread beater([&] {
    while (run.load()) {
      ++live;
      if (beatSecond.load()) ++second;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::atomic<int> pings{0};
  std::atomic<int> stuck{-1};
  {
    // 40 ms interval: a check every 20 ms.
    daemon::Watchdog w(
        40'000, {&live, &second}, [&] { ++pings; }, [&](size_t i) { stuck = static_cast<int>(i); });
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (pings.load() < 3 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GE(pings.load(), 3);
    beatSecond = false;  // queue thread 1 hangs
    while (stuck.load() < 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(stuck.load(), 1);
    const int before = pings.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // about 10 checks
    EXPECT_EQ(pings.load(), before) << "pinged although a thread made no progress";
  }
  run = false;
  beater.join();
}

}  // namespace
}  // namespace ftpalg::test
