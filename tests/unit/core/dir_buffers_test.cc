// DirBufferPool: borrowing, returning when idle, carrying the splice delta, exhaustion.
#include "src/core/dir_buffers.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace ftpalg::test {
namespace {

using core::DirBuffer;
using core::DirBufferPool;
using core::DirState;
using core::kNone;

TEST(DirBufferPool, AcquireStartsFlightAtNext) {
  DirBufferPool pool(2, 1024, 128);
  DirState d;
  d.next = 5000;
  EXPECT_EQ(pool.get(d), nullptr);
  DirBuffer* b = pool.acquire(d);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(d.buf, kNone);
  EXPECT_EQ(b->flightStart, 5000u);
  EXPECT_EQ(b->flightLen, 0u);
  EXPECT_EQ(pool.get(d), b);
  EXPECT_EQ(pool.acquire(d), b);  // a direction holds one buffer at most
  EXPECT_EQ(pool.available(), 1u);
  EXPECT_EQ(pool.lineCapacity(), 130u);
  EXPECT_EQ(pool.maxInFlight(), 1024u);
}

TEST(DirBufferPool, ExhaustedPoolSaysSo) {
  DirBufferPool pool(1, 1024, 128);
  DirState a;
  DirState b;
  ASSERT_NE(pool.acquire(a), nullptr);
  EXPECT_EQ(pool.acquire(b), nullptr);
  EXPECT_EQ(b.buf, kNone);
  pool.free(a);
  EXPECT_NE(pool.acquire(b), nullptr);
}

// A direction's buffer in one state: releaseIfIdle keeps it while anything is in it.
struct IdleCase {
  const char* name;
  uint32_t flightLen;
  uint32_t lineLen;
  uint32_t heldCount;
  bool holding;
  bool released;
};

void PrintTo(const IdleCase& c, std::ostream* os) { *os << c.name; }

class DirBufferPoolReleaseIfIdle : public ::testing::TestWithParam<IdleCase> {};

TEST_P(DirBufferPoolReleaseIfIdle, KeepsBusyBuffers) {
  const IdleCase& c = GetParam();
  DirBufferPool pool(1, 1024, 128);
  DirState d;
  DirBuffer* b = pool.acquire(d);
  ASSERT_NE(b, nullptr);
  b->flightLen = c.flightLen;
  b->lineLen = c.lineLen;
  b->heldCount = c.heldCount;
  d.holding = c.holding;
  pool.releaseIfIdle(d);
  EXPECT_EQ(pool.get(d), c.released ? nullptr : b) << c.name;
  EXPECT_EQ(pool.available(), c.released ? 1u : 0u) << c.name;
}

INSTANTIATE_TEST_SUITE_P(DirBufferPool, DirBufferPoolReleaseIfIdle,
                         ::testing::Values(IdleCase{"BytesInFlight", 3, 0, 0, false, false},
                                           IdleCase{"PartialLine", 0, 2, 0, false, false},
                                           IdleCase{"HeldPackets", 0, 0, 2, false, false},
                                           IdleCase{"Holding", 0, 0, 0, true, false},
                                           IdleCase{"Idle", 0, 0, 0, false, true}),
                         [](const ::testing::TestParamInfo<IdleCase>& p) {
                           return std::string(p.param.name);
                         });

TEST(DirBufferPool, SpliceDeltaSurvivesReturnAndReborrow) {
  DirBufferPool pool(1, 1024, 128);
  DirState d;
  d.baseDelta = -3;
  DirBuffer* b = pool.acquire(d);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->map.baseDelta(), -3);
  b->map.setBaseDelta(4);
  pool.releaseIfIdle(d);
  EXPECT_EQ(d.baseDelta, 4);
  b = pool.acquire(d);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->map.baseDelta(), 4);
}

TEST(DirBufferPool, FreeForgetsEverything) {
  DirBufferPool pool(1, 1024, 128);
  DirState d;
  DirBuffer* b = pool.acquire(d);
  ASSERT_NE(b, nullptr);
  b->heldCount = 2;
  b->lineLen = 5;
  b->flightLen = 9;
  pool.free(d);
  EXPECT_EQ(d.buf, kNone);
  b = pool.acquire(d);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->heldCount, 0u);
  EXPECT_EQ(b->lineLen, 0u);
  EXPECT_EQ(b->flightLen, 0u);
}

TEST(DirBufferPool, BuffersDoNotOverlap) {
  DirBufferPool pool(2, 64, 64);
  DirState a;
  DirState b;
  ASSERT_NE(pool.acquire(a), nullptr);
  ASSERT_NE(pool.acquire(b), nullptr);
  EXPECT_GE(pool.flight(b.buf) - pool.flight(a.buf), 64);
  EXPECT_GE(pool.line(b.buf) - pool.line(a.buf), 66);
}

// Buffers are constructed when first lent: a large pool touches only what it lends, counts the
// rest as available, and a buffer comes back fresh (flight at d.next, no line, no splices).
TEST(DirBufferPool, BuffersAreConstructedOnFirstUse) {
  DirBufferPool pool(4096, 4096, 512);
  EXPECT_EQ(pool.count(), 0u);
  EXPECT_EQ(pool.capacity(), 4096u);
  EXPECT_EQ(pool.available(), 4096u);
  DirState a;
  DirBuffer* b = pool.acquire(a);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(pool.count(), 1u);
  b->lineLen = 3;
  b->heldCount = 2;
  pool.free(a);
  for (uint32_t i = 0; i < 100; ++i) {
    DirState d;
    d.next = i;
    DirBuffer* again = pool.acquire(d);
    ASSERT_EQ(again, b);
    EXPECT_EQ(again->flightStart, i);
    EXPECT_EQ(again->lineLen, 0u);
    EXPECT_EQ(again->heldCount, 0u);
    pool.free(d);
  }
  EXPECT_EQ(pool.count(), 1u);
  EXPECT_EQ(pool.available(), 4096u);
  std::vector<DirState> all(4096);
  for (DirState& d : all) ASSERT_NE(pool.acquire(d), nullptr);
  DirState extra;
  EXPECT_EQ(pool.acquire(extra), nullptr);
  EXPECT_EQ(pool.count(), 4096u);
  EXPECT_EQ(pool.available(), 0u);
}

}  // namespace
}  // namespace ftpalg::test
