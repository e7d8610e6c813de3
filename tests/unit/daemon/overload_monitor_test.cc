// OverloadMonitor: kernel queue counters as deltas per queue, totals, one warning when a burst
// of drops starts and one line when it ended; fail-open counts socket drops and full samples.
#include "daemon/overload_monitor.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace ftpalg::test {
namespace {

using daemon::OverloadMonitor;
using kernel::QueueProcStats;

constexpr uint64_t kS = 1'000'000'000;

size_t count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

QueueProcStats line(uint16_t q, uint32_t total, uint32_t dropped, uint32_t user) {
  QueueProcStats s;
  s.queueNum = q;
  s.queueTotal = total;
  s.queueDropped = dropped;
  s.userDropped = user;
  return s;
}

TEST(OverloadMonitor, FailClosedDropsAreCountedAsDeltasAndLoggedOncePerBurst) {
  OverloadMonitor m({{3, false, 16, nullptr}, {4, false, 16, nullptr}});
  ::testing::internal::CaptureStderr();
  // Counters left from before are the baseline, not a burst.
  m.observe(1 * kS, {line(3, 0, 500, 7), line(4, 0, 0, 0)}, {0, 0});
  m.observe(2 * kS, {line(3, 16, 600, 7), line(4, 0, 0, 0)}, {0, 0});
  m.observe(3 * kS, {line(3, 16, 900, 9), line(4, 0, 0, 0)}, {0, 0});
  m.observe(4 * kS, {line(3, 2, 1000, 9), line(4, 0, 0, 0)}, {0, 0});
  for (uint64_t t = 5; t <= 9; ++t)
    m.observe(t * kS, {line(3, 0, 1000, 9), line(4, 0, 0, 0)}, {0, 0});
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(
      count(log, "queue 3: overload: 100 dropped by the kernel (100 queue full, 0 socket full)"),
      1u)
      << log;
  EXPECT_EQ(count(log,
                  "queue 3: overload ended after 2 s: 502 dropped by the kernel (500 queue full, 2 "
                  "socket full)"),
            1u)
      << log;
  EXPECT_EQ(count(log, "queue 4"), 0u) << log;
  EXPECT_EQ(count(log, "overload"), 2u) << log;
  EXPECT_EQ(m.totals(0).queueFull, 500u);
  EXPECT_EQ(m.totals(0).socketFull, 2u);
  EXPECT_EQ(m.totals(1).queueFull, 0u);
  EXPECT_NE(m.statusText().find("500 queue full, 2 socket full"), std::string::npos);
}

TEST(OverloadMonitor, CountersThatWrapGiveTheirTrueDelta) {
  OverloadMonitor m({{0, false, 16, nullptr}});
  ::testing::internal::CaptureStderr();
  m.observe(1 * kS, {line(0, 0, 0xfffffff0u, 0)}, {0});
  m.observe(2 * kS, {line(0, 0, 0x10u, 0)}, {0});
  (void)::testing::internal::GetCapturedStderr();
  EXPECT_EQ(m.totals(0).queueFull, 0x20u);
}

TEST(OverloadMonitor, FailOpenCountsSocketDropsAndFullSamples) {
  OverloadMonitor m({{1, true, 16, nullptr}});
  ::testing::internal::CaptureStderr();
  m.observe(1 * kS, {line(1, 0, 0, 0)}, {10});
  m.observe(2 * kS, {line(1, 16, 0, 0)}, {10});  // full when sampled
  m.observe(3 * kS, {line(1, 3, 0, 0)}, {25});   // 15 messages the socket could not take
  m.finish(4 * kS);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(log,
                  "queue 1: overload: 0 passed uninspected (socket full), queue found full in "
                  "1 sample(s)"),
            1u)
      << log;
  EXPECT_EQ(count(log, "fail-open"), 1u) << log;
  EXPECT_EQ(count(log,
                  "overload ended after 1 s: 15 passed uninspected (socket full), queue "
                  "found full in 1 sample(s)"),
            1u)
      << log;
  EXPECT_EQ(m.totals(0).socketFull, 15u);
  EXPECT_EQ(m.totals(0).fullSamples, 1u);
}

TEST(OverloadMonitor, AQueueMissingFromTheFileIsNoOverload) {
  OverloadMonitor m({{2, false, 16, nullptr}});
  ::testing::internal::CaptureStderr();
  m.observe(1 * kS, {}, {0});
  m.observe(2 * kS, {line(7, 0, 50, 0)}, {0});
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log, "");
  EXPECT_EQ(m.statusText(), "");
}

}  // namespace
}  // namespace ftpalg::test
