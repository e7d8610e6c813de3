// Emitter: forwarding with mapped numbers, coalescing a released range into as few packets as
// the MSS allows (userspace seqadj), and in-place payload replacement (kernel seqadj).
#include "src/core/emit.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace ftpalg::test {
namespace {

using core::DirState;
using core::HeldSeg;
using core::PacketVerdict;

std::string text(std::span<const uint8_t> b) { return {b.begin(), b.end()}; }

// Direction holding "PORT 10,0,0,1,4,1\r\n" from seq 1000 with the address spliced to
// "192,0,2,99" (two bytes longer); packet h1 carried [1000, 1005), h2 [1005, 1019).
struct EmitFixture : ::testing::Test {
  core::EngineConfig cfg;
  core::Counters counters;
  core::DirBufferPool pool{2, 256, 64};
  core::Stream stream{cfg, pool, counters};
  core::Emitter emitter{cfg, pool, stream, counters};
  DirState ds;
  DirState peer;
  HeldSeg h1;
  HeldSeg h2;
  core::Actions out;

  void SetUp() override {
    const std::string_view line = "PORT 10,0,0,1,4,1\r\n";
    ds.started = true;
    ds.next = ds.released = 1000;
    ASSERT_EQ(stream.storeNew(ds, reinterpret_cast<const uint8_t*>(line.data()), 19),
              core::StoreResult::Stored);
    ds.next = 1019;
    const std::string_view addr = "192,0,2,99";
    ASSERT_TRUE(buf(ds).map.add(1005, 8, std::span<const char>(addr.data(), addr.size())));
    h1 = HeldSeg{11, 1000, 5, 300, core::TcpAck, 0, {}};
    h2 = HeldSeg{12, 1005, 14, 301, core::TcpAck, 0, {}};
    emitter.begin({});
  }
  core::DirBuffer& buf(core::DirState& d) {
    core::DirBuffer* b = pool.get(d);
    if (b == nullptr) std::abort();  // the fixture gave the direction a buffer
    return *b;
  }
  void holdH1() {
    core::DirBuffer& b = buf(ds);
    b.held[0] = h1;
    b.heldCount = 1;
    ds.holding = true;
    ds.heldFrom = 1000;
  }
};

TEST_F(EmitFixture, CoalescesHeldBytesIntoTheLastPacket) {
  holdH1();
  emitter.release(ds, peer, 1000, 1019, &h2, 77, true, out);
  ASSERT_EQ(out.packetCount, 2u);
  EXPECT_EQ(out.packets[0].handle, 11u);
  EXPECT_EQ(out.packets[0].verdict, PacketVerdict::Drop);
  EXPECT_EQ(out.packets[1].handle, 12u);
  EXPECT_EQ(out.packets[1].verdict, PacketVerdict::Rewrite);
  EXPECT_EQ(out.packets[1].seq, 1000u);
  EXPECT_EQ(out.packets[1].ack, 77u);
  EXPECT_EQ(text(out.packets[1].payload), "PORT 192,0,2,99,4,1\r\n");
  EXPECT_EQ(counters.get(core::Counter::Coalesced), 1u);
  EXPECT_EQ(buf(ds).heldCount, 0u);
  EXPECT_FALSE(ds.holding);
}

TEST_F(EmitFixture, SplitsAtTheMssAndCountsWhatDoesNotFit) {
  holdH1();
  ds.mss = 10;
  emitter.release(ds, peer, 1000, 1019, &h2, 77, true, out);
  ASSERT_EQ(out.packetCount, 2u);
  EXPECT_EQ(text(out.packets[0].payload), "PORT 192,0");
  EXPECT_EQ(out.packets[0].seq, 1000u);
  EXPECT_EQ(out.packets[0].ack, 300u);  // a held packet keeps its own acknowledgement
  EXPECT_EQ(text(out.packets[1].payload), ",2,99,4,1\r");
  EXPECT_EQ(out.packets[1].seq, 1010u);
  EXPECT_EQ(counters.get(core::Counter::RewriteExceedsMss), 1u);
}

TEST_F(EmitFixture, KernelSeqAdjustReplacesPayloadsInPlace) {
  cfg.kernelSeqAdjust = true;
  holdH1();
  emitter.release(ds, peer, 1000, 1019, &h2, 77, true, out);
  ASSERT_EQ(out.packetCount, 2u);
  EXPECT_EQ(out.packets[0].verdict, PacketVerdict::Rewrite);
  EXPECT_EQ(out.packets[0].seq, 1000u);
  EXPECT_EQ(out.packets[0].ack, 300u);
  EXPECT_EQ(text(out.packets[0].payload), "PORT ");
  EXPECT_EQ(out.packets[1].seq, 1005u);
  EXPECT_EQ(out.packets[1].ack, 301u);
  EXPECT_EQ(text(out.packets[1].payload), "192,0,2,99,4,1\r\n");
  EXPECT_FALSE(ds.holding);
}

TEST_F(EmitFixture, RetransmissionRewrittenAsTheFirstTime) {
  emitter.release(ds, peer, 1005, 1019, &h2, 77, false, out);
  ASSERT_EQ(out.packetCount, 1u);
  EXPECT_EQ(out.packets[0].seq, 1005u);
  EXPECT_EQ(text(out.packets[0].payload), "192,0,2,99,4,1\r\n");
}

TEST_F(EmitFixture, ForwardAsIsAcceptsWhatNeedsNoChange) {
  core::PacketView v;
  v.seq = 1000;
  v.ack = 300;
  core::Outgoing o;
  o.view = &v;
  o.cur.handle = 5;
  o.ack = 300;
  emitter.forwardAsIs(ds, o, 1000, out);
  ASSERT_EQ(out.packetCount, 1u);
  EXPECT_EQ(out.packets[0].verdict, PacketVerdict::Accept);
  v.seq = 1019;
  emitter.forwardAsIs(ds, o, 1019, out);  // after the splice: shifted by two
  ASSERT_EQ(out.packetCount, 2u);
  EXPECT_EQ(out.packets[1].verdict, PacketVerdict::Rewrite);
  EXPECT_EQ(out.packets[1].seq, 1021u);
}

}  // namespace
}  // namespace ftpalg::test
