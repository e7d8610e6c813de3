// RateLimit: a burst per interval, the rest counted and reported with the next allowed line.
#include "daemon/log.h"

#include <gtest/gtest.h>

namespace ftpalg::test {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

TEST(RateLimit, AllowsTheBurstThenCountsWhatItSuppresses) {
  daemon::RateLimit rl(3, 10 * kSecond);
  uint64_t suppressed = 99;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(rl.allow(kSecond + static_cast<uint64_t>(i), suppressed));
    EXPECT_EQ(suppressed, 0u);
  }
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(rl.allow(2 * kSecond, suppressed));
  // Still inside the interval.
  EXPECT_FALSE(rl.allow(kSecond + 10 * kSecond - 1, suppressed));
  // A new interval: allowed, and told about the five suppressed ones.
  ASSERT_TRUE(rl.allow(kSecond + 10 * kSecond, suppressed));
  EXPECT_EQ(suppressed, 5u);
  ASSERT_TRUE(rl.allow(kSecond + 10 * kSecond, suppressed));
  EXPECT_EQ(suppressed, 0u);
}

TEST(RateLimit, DefaultIsTenPerTenSeconds) {
  daemon::RateLimit rl;
  uint64_t suppressed = 0;
  int allowed = 0;
  for (int i = 0; i < 25; ++i) allowed += rl.allow(5 * kSecond, suppressed) ? 1 : 0;
  EXPECT_EQ(allowed, 10);
  EXPECT_TRUE(rl.allow(15 * kSecond, suppressed));
  EXPECT_EQ(suppressed, 15u);
}

TEST(RateLimit, WindowsRestartFromTheFirstMessageAfterThem) {
  daemon::RateLimit rl(1, 10 * kSecond);
  uint64_t suppressed = 0;
  EXPECT_TRUE(rl.allow(kSecond, suppressed));
  EXPECT_FALSE(rl.allow(5 * kSecond, suppressed));
  EXPECT_TRUE(rl.allow(11 * kSecond, suppressed));
  EXPECT_EQ(suppressed, 1u);
  // The window now starts at 11 s, not 21 s.
  EXPECT_FALSE(rl.allow(20 * kSecond, suppressed));
  EXPECT_TRUE(rl.allow(21 * kSecond, suppressed));
}

}  // namespace
}  // namespace ftpalg::test
