// Holding: mustHold applies the hold decision to a direction (early splice recorded once),
// park() keeps at most kMaxHeld packets and answers each with Hold.
#include "src/core/holding.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using core::PacketVerdict;

// A session whose client (10.0.0.1) is behind SNAT (10.0.0.9) with a line in progress.
struct HoldingFixture : ::testing::Test {
  core::Counters counters;
  core::DirBufferPool pool{1, 1024, 128};
  core::Session s;
  core::Actions out;

  void SetUp() override {
    s.key = core::FlowKey{endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21")};
    s.nat = core::NatBinding{ipFromText("10.0.0.1"), ipFromText("10.0.0.9"),
                             ipFromText("192.0.2.1"), ipFromText("192.0.2.1")};
    core::DirState& ds = s.at(Dir::C2S);
    ds.next = ds.released = ds.lineStart = 1000;
    ASSERT_NE(pool.acquire(ds), nullptr);
  }
  core::DirBuffer& buf(core::DirState& d) {
    core::DirBuffer* b = pool.get(d);
    if (b == nullptr) std::abort();  // the fixture gave the direction a buffer
    return *b;
  }
  void partial(std::string_view text) {
    core::DirState& ds = s.at(Dir::C2S);
    std::memcpy(pool.line(ds.buf), text.data(), text.size());
    buf(ds).lineLen = static_cast<uint32_t>(text.size());
  }
};

TEST_F(HoldingFixture, NoLineInProgressNothingHeld) {
  uint32_t at = 0;
  EXPECT_FALSE(core::mustHold(s, Dir::C2S, pool, counters, at, out));
}

TEST_F(HoldingFixture, DifferingAddressBytesAreHeld) {
  partial("PORT 10,0,0,1");
  uint32_t at = 0;
  EXPECT_TRUE(core::mustHold(s, Dir::C2S, pool, counters, at, out));
  EXPECT_EQ(at, 1012u);
}

TEST_F(HoldingFixture, CompleteAddressIsSplicedOnce) {
  partial("PORT 10,0,0,1,");
  uint32_t at = 0;
  EXPECT_FALSE(core::mustHold(s, Dir::C2S, pool, counters, at, out));
  EXPECT_TRUE(s.at(Dir::C2S).earlySpliced);
  EXPECT_EQ(buf(s.at(Dir::C2S)).map.size(), 1u);
  EXPECT_EQ(counters.get(core::Counter::Rewrites), 1u);
  partial("PORT 10,0,0,1,4");
  EXPECT_FALSE(core::mustHold(s, Dir::C2S, pool, counters, at, out));
  EXPECT_EQ(buf(s.at(Dir::C2S)).map.size(), 1u);
}

TEST_F(HoldingFixture, SpliceThatCannotBeRecordedHolds) {
  core::RewriteMap& map = buf(s.at(Dir::C2S)).map;
  for (uint32_t i = 0; i < core::RewriteMap::kMaxRecords; ++i) {
    ASSERT_TRUE(map.add(900 + i, 1, std::span<const char>("x", 1)));
  }
  partial("PORT 10,0,0,1,");
  uint32_t at = 0;
  EXPECT_TRUE(core::mustHold(s, Dir::C2S, pool, counters, at, out));
  EXPECT_EQ(at, 1012u);
  EXPECT_FALSE(s.at(Dir::C2S).earlySpliced);
}

TEST_F(HoldingFixture, OpaqueOrDiscardingDirectionsNeverHold) {
  partial("PORT 10,0,0,1");
  uint32_t at = 0;
  s.at(Dir::C2S).opaque = true;
  EXPECT_FALSE(core::mustHold(s, Dir::C2S, pool, counters, at, out));
  s.at(Dir::C2S).opaque = false;
  s.at(Dir::C2S).discard = true;
  EXPECT_FALSE(core::mustHold(s, Dir::C2S, pool, counters, at, out));
}

TEST(Park, KeepsAtMostMaxHeldDroppingTheOldest) {
  core::DirBuffer b;
  core::Counters counters;
  core::Actions out;
  for (uint64_t h = 1; h <= core::kMaxHeld + 1; ++h) {
    core::HeldSeg seg;
    seg.handle = h;
    core::park(b, seg, out, counters);
  }
  EXPECT_EQ(b.heldCount, core::kMaxHeld);
  EXPECT_EQ(b.held[0].handle, 2u);
  EXPECT_EQ(b.held[core::kMaxHeld - 1].handle, core::kMaxHeld + 1);
  ASSERT_EQ(out.packetCount, core::kMaxHeld + 2);
  EXPECT_EQ(out.packets[core::kMaxHeld].handle, 1u);
  EXPECT_EQ(out.packets[core::kMaxHeld].verdict, PacketVerdict::Drop);
  EXPECT_EQ(out.packets[core::kMaxHeld + 1].verdict, PacketVerdict::Hold);
  EXPECT_EQ(counters.get(core::Counter::Coalesced), 1u);
  EXPECT_EQ(counters.get(core::Counter::HeldSegments), core::kMaxHeld + 1);
}

}  // namespace
}  // namespace ftpalg::test
