// Stream: segment classification (new, duplicate, overlap, ahead of gap, after FIN, mismatch,
// held retransmission), storing flight bytes, and acknowledgement/SACK mapping.
#include "src/core/stream.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace ftpalg::test {
namespace {

using core::Classified;
using core::DirState;
using core::SegmentClass;
using core::StoreResult;

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A direction that has seen "NOOP\r\nPASV\r\n" from seq 1000 (next = 1012).
struct StreamFixture : ::testing::Test {
  core::EngineConfig cfg;
  core::Counters counters;
  core::DirBufferPool pool{2, 256, 64};
  core::Stream stream{cfg, pool, counters};
  DirState ds;

  void SetUp() override {
    ds.started = true;
    ds.next = ds.released = ds.acked = 1000;
    const std::string_view seen = "NOOP\r\nPASV\r\n";
    ASSERT_EQ(stream.storeNew(ds, bytes(seen).data(), 12), StoreResult::Stored);
    ds.next = ds.released = 1012;
  }
  core::DirBuffer& buf(core::DirState& d) {
    core::DirBuffer* b = pool.get(d);
    if (b == nullptr) std::abort();  // the fixture gave the direction a buffer
    return *b;
  }
  Classified classify(uint32_t seq, std::string_view payload, bool fin = false,
                      bool finSeen = false) {
    return stream.classify(ds, finSeen, seq, bytes(payload), fin);
  }
};

TEST_F(StreamFixture, Classification) {
  struct Case {
    std::string_view name;
    uint32_t seq;
    std::string_view payload;
    bool fin;
    bool finSeen;
    SegmentClass cls;
    bool resends;
  };
  const Case cases[] = {
      {"new", 1012, "USER a\r\n", false, false, SegmentClass::New, false},
      {"fin_alone", 1012, "", true, false, SegmentClass::New, false},
      {"duplicate", 1006, "PASV\r\n", false, false, SegmentClass::Duplicate, true},
      {"overlap_with_new_bytes", 1006, "PASV\r\nUSER a\r\n", false, false, SegmentClass::New, true},
      {"ahead_of_gap", 1013, "x", false, false, SegmentClass::AheadOfGap, false},
      {"mismatch", 1006, "PASX\r\n", false, false, SegmentClass::Mismatch, true},
      {"data_after_fin", 1012, "x", false, true, SegmentClass::AfterFin, false},
      {"old_bytes_after_fin_are_a_duplicate", 1000, "NOOP", false, true, SegmentClass::Duplicate,
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.name));
    const Classified r = classify(c.seq, c.payload, c.fin, c.finSeen);
    EXPECT_EQ(r.cls, c.cls);
    EXPECT_EQ(r.resends, c.resends);
  }
}

TEST_F(StreamFixture, RetransmissionOfHeldBytesIsLeftToTheHeldPackets) {
  ds.holding = true;
  ds.heldFrom = 1006;
  EXPECT_EQ(classify(1006, "PASV\r\n").cls, SegmentClass::HeldRetransmit);
  EXPECT_EQ(classify(1000, "NOOP\r\n").cls, SegmentClass::Duplicate);  // before the held bytes
}

TEST_F(StreamFixture, AcknowledgedBytesCannotBeCompared) {
  EXPECT_EQ(stream.mapAck(ds, 1006), 1006u);  // trims "NOOP\r\n" from the flight buffer
  EXPECT_EQ(ds.acked, 1006u);
  EXPECT_EQ(classify(1000, "XXXX\r\n").cls, SegmentClass::Duplicate);
  EXPECT_EQ(classify(1000, "XXXX\r\nPASX").cls, SegmentClass::Mismatch);
}

TEST_F(StreamFixture, AckBeyondWhatWasReleasedIsIgnored) {
  stream.mapAck(ds, 2000);
  EXPECT_EQ(ds.acked, 1000u);
}

TEST_F(StreamFixture, AckMapsThroughASplice) {
  core::DirBuffer* b = &buf(ds);
  const std::string_view text = "LONGER";
  ASSERT_TRUE(b->map.add(1006, 4, std::span<const char>(text.data(), text.size())));
  EXPECT_EQ(stream.mapSeq(ds, 1012), 1014u);
  EXPECT_EQ(stream.mapAck(ds, 1014), 1012u);
  EXPECT_EQ(stream.mapSackEdge(ds, 1014), 1012u);
}

TEST_F(StreamFixture, KernelSeqAdjustLeavesNumbersAlone) {
  cfg.kernelSeqAdjust = true;
  core::DirBuffer* b = &buf(ds);
  const std::string_view text = "LONGER";
  ASSERT_TRUE(b->map.add(1006, 4, std::span<const char>(text.data(), text.size())));
  EXPECT_EQ(stream.mapAck(ds, 1014), 1014u);
  EXPECT_EQ(stream.mapSackEdge(ds, 1014), 1014u);
}

TEST_F(StreamFixture, ReplayClampsAcksToReleasedBytes) {
  cfg.ackSpace = core::AckSpace::Original;
  ds.released = 1006;
  EXPECT_EQ(stream.mapAck(ds, 1012), 1006u);
}

TEST_F(StreamFixture, FullFlightBufferDropsOrEvicts) {
  std::string big(250, 'x');
  EXPECT_EQ(stream.storeNew(ds, bytes(big).data(), 250), StoreResult::BufferOverflow);
  cfg.evictWhenFull = true;
  EXPECT_EQ(stream.storeNew(ds, bytes(big).data(), 250), StoreResult::Stored);
  EXPECT_EQ(counters.get(core::Counter::InFlightEvicted), 1u);
  EXPECT_EQ(buf(ds).flightStart, 1006u);
  EXPECT_EQ(ds.acked, 1006u);
}

TEST_F(StreamFixture, FullRewriteMapRefusesNewBytes) {
  core::DirBuffer* b = &buf(ds);
  for (uint32_t i = 0; i < core::RewriteMap::kMaxRecords; ++i) {
    ASSERT_TRUE(b->map.add(1000 + i, 1, std::span<const char>("y", 1)));
  }
  EXPECT_EQ(stream.storeNew(ds, bytes("z").data(), 1), StoreResult::RewriteTableFull);
}

TEST_F(StreamFixture, ExhaustedPoolRefusesNewBytes) {
  DirState other;
  DirState third;
  ASSERT_NE(pool.acquire(other), nullptr);  // the second and last buffer
  EXPECT_EQ(stream.storeNew(third, bytes("z").data(), 1), StoreResult::PoolExhausted);
}

TEST(Stream, OutgoingMapsThePeersNumbers) {
  core::EngineConfig cfg;
  core::Counters counters;
  core::DirBufferPool pool(1, 256, 64);
  core::Stream stream(cfg, pool, counters);
  DirState peer;
  peer.started = true;
  peer.next = peer.released = peer.acked = 500;
  peer.baseDelta = 3;  // the peer's stream grew by 3 bytes in an earlier rewrite
  core::PacketView v;
  v.seq = 7000;
  v.ack = 503;
  v.flags = core::TcpAck;
  v.sackCount = 1;
  v.sack[0] = {510, 520};
  core::Outgoing o;
  stream.outgoing(peer, v, 42, o);
  EXPECT_EQ(o.cur.handle, 42u);
  EXPECT_EQ(o.cur.seq, 7000u);
  EXPECT_EQ(o.ack, 500u);
  EXPECT_EQ(o.sack[0], (core::SackBlock{507, 517}));
  EXPECT_EQ(o.cur.ack, 503u);  // the packet's own numbers stay for a later release
}

}  // namespace
}  // namespace ftpalg::test
