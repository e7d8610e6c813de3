// BurstLog: the first event of a burst is reported, a quiet gap ends it once with its total.
#include "daemon/burst_log.h"

#include <gtest/gtest.h>

namespace ftpalg::test {
namespace {

constexpr uint64_t kS = 1'000'000'000;

TEST(BurstLog, OneStartAndOneEndPerBurst) {
  daemon::BurstLog b(2 * kS);
  daemon::BurstLog::Ended e;
  EXPECT_FALSE(b.end(1 * kS, e));  // nothing happened
  EXPECT_TRUE(b.note(10 * kS, 5));
  EXPECT_FALSE(b.note(10 * kS + 1, 1));
  EXPECT_FALSE(b.note(11 * kS, 4));
  EXPECT_FALSE(b.end(12 * kS, e));  // 1 s quiet: still the same burst
  EXPECT_FALSE(b.note(12 * kS + 5, 2));
  EXPECT_TRUE(b.active());
  ASSERT_TRUE(b.end(15 * kS, e));
  EXPECT_EQ(e.total, 12u);
  EXPECT_EQ(e.durationNs, 2 * kS + 5);
  EXPECT_FALSE(b.end(16 * kS, e));  // ended once
  EXPECT_FALSE(b.active());
  EXPECT_TRUE(b.note(20 * kS, 1));  // a new burst
}

}  // namespace
}  // namespace ftpalg::test
