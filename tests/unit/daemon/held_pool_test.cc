// HeldPool: copies kept by id, a fixed capacity, and an open-addressing index that stays
// correct through erasures inside probe runs.
#include "daemon/held_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ftpalg::test {
namespace {

std::vector<uint8_t> bytes(uint32_t id, size_t n = 40) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(id + i);
  return b;
}

TEST(HeldPool, KeepsACopyUntilErased) {
  daemon::HeldPool pool(4);
  std::vector<uint8_t> b = bytes(7);
  ASSERT_TRUE(pool.put(7, b));
  b[0] = 0xff;  // the pool has its own copy
  const std::vector<uint8_t>* got = pool.find(7);
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(*got, bytes(7));
  EXPECT_EQ(pool.size(), 1u);
  pool.erase(7);
  EXPECT_EQ(pool.find(7), nullptr);
  EXPECT_EQ(pool.size(), 0u);
  pool.erase(7);  // erasing what is not held changes nothing
  EXPECT_EQ(pool.size(), 0u);
}

TEST(HeldPool, RefusesADuplicateIdAndAFullPool) {
  daemon::HeldPool pool(2);
  EXPECT_EQ(pool.capacity(), 2u);
  ASSERT_TRUE(pool.put(1, bytes(1)));
  EXPECT_FALSE(pool.put(1, bytes(9)));
  EXPECT_EQ(*pool.find(1), bytes(1));
  ASSERT_TRUE(pool.put(2, bytes(2)));
  EXPECT_FALSE(pool.put(3, bytes(3)));
  pool.erase(1);
  EXPECT_TRUE(pool.put(3, bytes(3)));
  EXPECT_EQ(pool.size(), 2u);
}

TEST(HeldPool, ZeroCapacityHoldsNothing) {
  daemon::HeldPool pool(0);
  EXPECT_FALSE(pool.put(1, bytes(1)));
  EXPECT_EQ(pool.find(1), nullptr);
}

TEST(HeldPool, LargePacketGrowsItsSlot) {
  daemon::HeldPool pool(1, 16);
  ASSERT_TRUE(pool.put(5, bytes(5, 9000)));
  EXPECT_EQ(pool.find(5)->size(), 9000u);
  pool.erase(5);
  ASSERT_TRUE(pool.put(6, bytes(6, 10)));
  EXPECT_EQ(*pool.find(6), bytes(6, 10));
}

// Fill the pool, erase in an order that breaks probe runs, and check every survivor is still
// found and every erased id is gone (backward-shift deletion).
TEST(HeldPool, ErasuresInsideProbeRunsKeepEveryOtherIdReachable) {
  constexpr uint32_t kN = 64;
  daemon::HeldPool pool(kN);
  for (uint32_t id = 0; id < kN; ++id) ASSERT_TRUE(pool.put(id * 977 + 3, bytes(id)));
  std::vector<uint32_t> erased;
  for (uint32_t id = 0; id < kN; id += 3) {
    pool.erase(id * 977 + 3);
    erased.push_back(id);
  }
  for (uint32_t id = 0; id < kN; ++id) {
    const bool gone = std::find(erased.begin(), erased.end(), id) != erased.end();
    const std::vector<uint8_t>* got = pool.find(id * 977 + 3);
    if (gone) {
      EXPECT_EQ(got, nullptr) << id;
    } else {
      ASSERT_NE(got, nullptr) << id;
      EXPECT_EQ(*got, bytes(id));
    }
  }
  EXPECT_EQ(pool.size(), kN - erased.size());
  std::vector<uint32_t> ids = pool.ids();
  EXPECT_EQ(ids.size(), pool.size());
  // Freed slots are reused.
  for (uint32_t id : erased) EXPECT_TRUE(pool.put(100000 + id, bytes(id)));
  EXPECT_EQ(pool.size(), kN);
}

}  // namespace
}  // namespace ftpalg::test
