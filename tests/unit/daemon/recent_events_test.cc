// Recent events per session (src/daemon/recent_events.cc): at most kPerSession per session,
// oldest first, the overwritten ones counted; at most kSessions sessions, the one updated
// longest ago making room, so one session's flood never pushes out another's events.
#include "daemon/recent_events.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using daemon::RecentEvents;

core::FlowKey flow(uint16_t clientPort) {
  return core::FlowKey{core::Endpoint{ipFromText("198.18.1.2"), clientPort},
                       core::Endpoint{ipFromText("198.19.1.2"), 21}};
}

core::Event event(uint16_t clientPort, uint64_t ts) {
  core::Event e;
  e.flow = flow(clientPort);
  e.tsNs = ts;
  return e;
}

std::vector<uint64_t> times(const RecentEvents& r, uint16_t clientPort) {
  std::vector<uint64_t> out;
  r.forFlow(flow(clientPort), [&](const core::Event& e) { out.push_back(e.tsNs); });
  return out;
}

TEST(RecentEvents, KeepsTheLastPerSessionOldestFirst) {
  RecentEvents r;
  for (uint64_t t = 1; t <= RecentEvents::kPerSession + 3; ++t) r.record(event(1000, t));
  r.record(event(1001, 99));
  const std::vector<uint64_t> got = times(r, 1000);
  ASSERT_EQ(got.size(), RecentEvents::kPerSession);
  EXPECT_EQ(got.front(), 4u);
  EXPECT_EQ(got.back(), RecentEvents::kPerSession + 3);
  EXPECT_EQ(r.dropped(flow(1000)), 3u);
  EXPECT_EQ(times(r, 1001), std::vector<uint64_t>{99});
  EXPECT_TRUE(times(r, 1002).empty());
  EXPECT_EQ(r.dropped(flow(1002)), 0u);
}

TEST(RecentEvents, AFloodInOneSessionKeepsTheOthers) {
  RecentEvents r;
  r.record(event(2000, 1));
  for (uint64_t t = 0; t < 10'000; ++t) r.record(event(2001, t));
  EXPECT_EQ(times(r, 2000), std::vector<uint64_t>{1});
}

TEST(RecentEvents, TheSessionUpdatedLongestAgoMakesRoom) {
  RecentEvents r;
  for (uint16_t i = 0; i < RecentEvents::kSessions; ++i) r.record(event(uint16_t(3000 + i), i));
  r.record(event(3000, 500));  // 3000 is the newest now; 3001 the oldest
  r.record(event(9000, 501));
  EXPECT_EQ(times(r, 3001).size(), 0u);
  EXPECT_EQ(times(r, 3000).size(), 2u);
  EXPECT_EQ(times(r, 9000), std::vector<uint64_t>{501});
  EXPECT_EQ(times(r, 3002).size(), 1u);
}

}  // namespace
}  // namespace ftpalg::test
