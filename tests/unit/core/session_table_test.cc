// SessionTable: find/create/erase/iterate over a fixed table, probe chains kept intact by
// backward-shift deletion, and a full table.
#include "src/core/session_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::FlowKey;
using core::Session;
using core::SessionTable;

FlowKey key(uint16_t clientPort) {
  return FlowKey{ftpalg::test::endpoint("10.0.0.1", clientPort),
                 ftpalg::test::endpoint("192.0.2.1:21")};
}

TEST(SessionTable, CreateThenFind) {
  SessionTable t(4);
  Session* s = t.create(key(1000), 7);
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->used);
  EXPECT_EQ(s->lastSeenNs, 7u);
  EXPECT_EQ(s->key, key(1000));
  EXPECT_EQ(t.find(key(1000)), s);
  EXPECT_EQ(t.find(key(1001)), nullptr);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.capacity(), 4u);
}

TEST(SessionTable, NatDefaultsToTheFlowsOwnAddresses) {
  SessionTable t(1);
  Session* s = t.create(key(1000), 0);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->nat.clientInside, s->key.client.addr);
  EXPECT_EQ(s->nat.clientOutside, s->key.client.addr);
  EXPECT_EQ(s->nat.serverInside, s->key.server.addr);
  EXPECT_EQ(s->nat.serverOutside, s->key.server.addr);
}

TEST(SessionTable, FullTableRefusesThenAcceptsAfterErase) {
  SessionTable t(3);
  for (uint16_t p = 1; p <= 3; ++p) ASSERT_NE(t.create(key(p), 0), nullptr);
  EXPECT_EQ(t.create(key(4), 0), nullptr);
  EXPECT_EQ(t.size(), 3u);
  t.erase(*t.find(key(2)));
  EXPECT_EQ(t.find(key(2)), nullptr);
  Session* s = t.create(key(4), 0);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(t.find(key(4)), s);
  EXPECT_NE(t.find(key(1)), nullptr);
  EXPECT_NE(t.find(key(3)), nullptr);
}

TEST(SessionTable, EraseKeepsEveryOtherKeyFindable) {
  // Many keys in a small index collide; erasing any of them must not cut a probe chain.
  constexpr uint16_t kKeys = 64;
  for (uint16_t victim = 1; victim <= kKeys; victim += 7) {
    SessionTable t(kKeys);
    for (uint16_t p = 1; p <= kKeys; ++p) ASSERT_NE(t.create(key(p), 0), nullptr);
    t.erase(*t.find(key(victim)));
    for (uint16_t p = 1; p <= kKeys; ++p) {
      if (p == victim) {
        EXPECT_EQ(t.find(key(p)), nullptr);
      } else {
        ASSERT_NE(t.find(key(p)), nullptr) << "key " << p << " after erasing " << victim;
        EXPECT_EQ(t.find(key(p))->key, key(p));
      }
    }
  }
}

TEST(SessionTable, EraseAllThenReuse) {
  SessionTable t(8);
  for (int round = 0; round < 3; ++round) {
    for (uint16_t p = 1; p <= 8; ++p) ASSERT_NE(t.create(key(p), 0), nullptr);
    for (uint16_t p = 1; p <= 8; ++p) t.erase(*t.find(key(p)));
    EXPECT_EQ(t.size(), 0u);
  }
}

TEST(SessionTable, ForEachVisitsLiveSessionsAndStopsEarly) {
  SessionTable t(8);
  for (uint16_t p = 1; p <= 5; ++p) ASSERT_NE(t.create(key(p), 0), nullptr);
  t.erase(*t.find(key(3)));
  std::vector<uint16_t> seen;
  EXPECT_TRUE(t.forEach([&](Session& s) {
    seen.push_back(s.key.client.port);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<uint16_t>{1, 2, 4, 5}));
  size_t visits = 0;
  EXPECT_FALSE(t.forEach([&](Session&) { return ++visits < 2; }));
  EXPECT_EQ(visits, 2u);
}

TEST(SessionTable, ErasingDuringForEachIsSafe) {
  SessionTable t(4);
  for (uint16_t p = 1; p <= 4; ++p) ASSERT_NE(t.create(key(p), 0), nullptr);
  EXPECT_TRUE(t.forEach([&](Session& s) {
    if (s.key.client.port % 2 == 0) t.erase(s);
    return true;
  }));
  EXPECT_EQ(t.size(), 2u);
  EXPECT_NE(t.find(key(1)), nullptr);
  EXPECT_EQ(t.find(key(2)), nullptr);
}

TEST(SessionTable, HashOfFieldsEqualsHashOfKey) {
  const FlowKey k4 = key(1000);
  EXPECT_EQ(core::hashFlow(k4.client.addr, k4.client.port, k4.server.addr, k4.server.port),
            core::hashFlowKey(k4));
  const FlowKey k6{ftpalg::test::endpoint("[2001:db8::1]:40000"),
                   ftpalg::test::endpoint("[2001:db8::2]:21")};
  EXPECT_NE(core::hashFlowKey(k6), core::hashFlowKey(k4));
  SessionTable t(4);
  Session* s = t.create(k6, 0);
  EXPECT_EQ(t.find(k6, core::hashFlowKey(k6)), s);
  EXPECT_EQ(t.find(k6), s);
}

// Slots are constructed as sessions first need them and freed ones are reused first, so the
// memory a large table touches follows the most sessions live at once, never its capacity; a
// reused slot starts as a fresh session.
TEST(SessionTable, SlotsAreConstructedOnFirstUseAndReusedFirst) {
  SessionTable t(100000);
  EXPECT_EQ(t.constructed(), 0u);
  Session* a = t.create(key(1), 0);
  Session* b = t.create(key(2), 0);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(t.constructed(), 2u);
  a->closing = true;
  a->rewrites = 9;
  t.erase(*a);
  for (uint16_t round = 0; round < 1000; ++round) {
    Session* c = t.create(key(static_cast<uint16_t>(10 + round)), round);
    ASSERT_EQ(c, a) << "a freed slot is reused before a new one is constructed";
    EXPECT_FALSE(c->closing);
    EXPECT_EQ(c->rewrites, 0u);
    EXPECT_EQ(c->lastSeenNs, round);
    t.erase(*c);
  }
  EXPECT_EQ(t.constructed(), 2u);
  EXPECT_EQ(t.find(key(2)), b);
  size_t seen = 0;
  t.forEach([&](Session& s) {
    EXPECT_EQ(&s, b);
    return ++seen != 0;
  });
  EXPECT_EQ(seen, 1u);
}

// A full table built lazily still says full, and frees make room again.
TEST(SessionTable, LazyTableFillsToCapacity) {
  SessionTable t(3);
  std::vector<Session*> s;
  for (uint16_t i = 0; i < 3; ++i) s.push_back(t.create(key(i), 0));
  EXPECT_EQ(t.create(key(7), 0), nullptr);
  EXPECT_EQ(t.constructed(), 3u);
  t.erase(*s[1]);
  t.erase(*s[0]);
  EXPECT_EQ(t.create(key(8), 0), s[0]);
  EXPECT_EQ(t.create(key(9), 0), s[1]);
  EXPECT_EQ(t.create(key(10), 0), nullptr);
  EXPECT_EQ(t.find(key(2)), s[2]);
}

}  // namespace
}  // namespace ftpalg::test
