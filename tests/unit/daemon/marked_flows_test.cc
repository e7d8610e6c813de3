// MarkedFlows: the pinhole admitter's liberal-marked control connections found by flow, the
// oldest marked forgotten first when full, erase and idle expiry keeping the set consistent.
#include "daemon/marked_flows.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using daemon::MarkedFlow;
using daemon::MarkedFlows;

core::FlowKey flow(uint16_t port) {
  return core::FlowKey{endpoint("198.18.0.2", port), endpoint("198.19.0.2:21")};
}

TEST(MarkedFlows, FindsWhatWasAdded) {
  MarkedFlows m(8, 1);
  EXPECT_EQ(m.find(flow(1)), nullptr);
  m.add(MarkedFlow{flow(1), 5, {}});
  m.add(MarkedFlow{flow(2), 6, {}});
  ASSERT_NE(m.find(flow(1)), nullptr);
  EXPECT_EQ(m.find(flow(1))->lastNs, 5u);
  EXPECT_EQ(m.find(flow(2))->lastNs, 6u);
  EXPECT_EQ(m.find(flow(3)), nullptr);
  m.find(flow(1))->lastNs = 9;
  EXPECT_EQ(m.find(flow(1))->lastNs, 9u);
  EXPECT_EQ(m.size(), 2u);
}

TEST(MarkedFlows, FullForgetsTheOldestMarked) {
  MarkedFlows m(3, 2);
  for (uint16_t p = 1; p <= 3; ++p) m.add(MarkedFlow{flow(p), p, {}});
  m.find(flow(1))->lastNs = 100;  // used again: still the oldest marked
  m.add(MarkedFlow{flow(4), 4, {}});
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.find(flow(1)), nullptr);
  EXPECT_NE(m.find(flow(2)), nullptr);
  EXPECT_NE(m.find(flow(4)), nullptr);
  m.add(MarkedFlow{flow(5), 5, {}});
  EXPECT_EQ(m.find(flow(2)), nullptr);
  EXPECT_NE(m.find(flow(3)), nullptr);
}

TEST(MarkedFlows, EraseAndExpire) {
  MarkedFlows m(16384, 3);
  for (uint16_t p = 1; p <= 1000; ++p) m.add(MarkedFlow{flow(p), p, {}});
  m.erase(flow(10));
  m.erase(flow(10));  // not there: nothing happens
  EXPECT_EQ(m.find(flow(10)), nullptr);
  EXPECT_EQ(m.size(), 999u);
  m.expire(1500, 1000);  // forgets lastNs < 500
  EXPECT_EQ(m.size(), 501u);
  EXPECT_EQ(m.find(flow(499)), nullptr);
  ASSERT_NE(m.find(flow(500)), nullptr);
  EXPECT_NE(m.find(flow(1000)), nullptr);
  // The order list and the index agree after both: the oldest left goes first.
  MarkedFlows small(2, 4);
  small.add(MarkedFlow{flow(1), 1, {}});
  small.add(MarkedFlow{flow(2), 2, {}});
  small.erase(flow(1));
  small.add(MarkedFlow{flow(3), 3, {}});
  small.add(MarkedFlow{flow(4), 4, {}});
  EXPECT_EQ(small.find(flow(2)), nullptr);
  EXPECT_NE(small.find(flow(3)), nullptr);
  EXPECT_NE(small.find(flow(4)), nullptr);
}

}  // namespace
}  // namespace ftpalg::test
