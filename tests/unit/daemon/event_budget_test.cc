// Event budgets: a burst per session and per worker, refilled at a steady rate; what they
// refuse is counted by the bucket that refused it.
#include "daemon/event_budget.h"

#include <gtest/gtest.h>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using daemon::EventBudget;
using daemon::EventBudgetConfig;
using ftpalg::test::endpoint;

constexpr uint64_t kSecond = 1'000'000'000;

core::FlowKey flow(uint16_t port) {
  return {endpoint("192.0.2.7:1000"), core::Endpoint{endpoint("198.51.100.1:21").addr, port}};
}

TEST(EventBudgetTest, SessionBurstThenRefillAtItsRate) {
  EventBudget b(EventBudgetConfig{4, 2, 1000, 1000});
  const uint64_t t0 = 5 * kSecond;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(b.take(flow(21), t0));
  EXPECT_FALSE(b.take(flow(21), t0));
  EXPECT_FALSE(b.take(flow(21), t0 + kSecond / 4));  // half an event refilled
  EXPECT_TRUE(b.take(flow(21), t0 + kSecond / 2));   // one event
  EXPECT_FALSE(b.take(flow(21), t0 + kSecond / 2));
  EXPECT_EQ(b.takeSuppressed().bySession, 3u);
  EXPECT_EQ(b.takeSuppressed().total(), 0u);  // reported once
}

TEST(EventBudgetTest, ManyCloseCallsStillRefill) {
  // One event per second, asked every millisecond: the thousandths add up.
  EventBudget b(EventBudgetConfig{1, 1, 1000, 1000});
  uint64_t t = kSecond;
  int taken = 0;
  for (int i = 0; i < 3000; ++i, t += kSecond / 1000) taken += b.take(flow(21), t) ? 1 : 0;
  EXPECT_GE(taken, 3);
  EXPECT_LE(taken, 4);
}

TEST(EventBudgetTest, OneSessionDoesNotSpendAnothersBudget) {
  EventBudget b(EventBudgetConfig{2, 0, 1000, 0});
  EXPECT_TRUE(b.take(flow(21), kSecond));
  EXPECT_TRUE(b.take(flow(21), kSecond));
  EXPECT_FALSE(b.take(flow(21), kSecond));
  // Another control connection (unless it shares the hash slot, which this one does not).
  EXPECT_TRUE(b.take(flow(2121), kSecond));
}

TEST(EventBudgetTest, GlobalBudgetBoundsManySessions) {
  EventBudget b(EventBudgetConfig{10, 10, 100, 0});
  int taken = 0;
  for (uint16_t p = 1; p <= 1000; ++p) taken += b.take(flow(p), kSecond) ? 1 : 0;
  EXPECT_EQ(taken, 100);
  const EventBudget::Suppressed s = b.takeSuppressed();
  EXPECT_EQ(s.byGlobal + s.bySession, 900u);
  EXPECT_GE(s.byGlobal, 800u);
}

}  // namespace
}  // namespace ftpalg::test
