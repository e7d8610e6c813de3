// Conntrack's rules for SYN and RST on a known session (tcp_window.h): a spoofed RST or SYN
// that knows only the tuple must not end, replace or desynchronise the engine's session.
#include "src/core/tcp_window.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

constexpr uint8_t kRstAck = TcpRst | TcpAck;

NatBinding snat(const EngineHarness& h) {
  return NatBinding{h.client().addr, ipFromText("198.51.100.77"), h.server().addr, h.server().addr};
}

// A session with a length-changing rewrite behind it: 198.18.0.2 -> 198.51.100.77 (+3 bytes).
void rewrittenSession(EngineHarness& h) {
  h.setNat(snat(h));
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  h.send(Dir::S2C, "200 ok\r\n");
}

TEST(TcpWindow, SpoofedRstOutOfWindowKeepsTheSessionAndItsRewrites) {
  EngineHarness h(EngineConfig{});
  rewrittenSession(h);
  h.sendAt(Dir::C2S, h.sndNext(Dir::C2S) - 1'000'000, "", kRstAck);
  h.sendAt(Dir::S2C, h.sndNext(Dir::S2C) - 100'000, "", kRstAck);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
  EXPECT_EQ(h.engine().counter(Counter::SessionsEnded), 0u);
  EXPECT_EQ(h.engine().counter(Counter::RstOutOfWindow), 2u);
  h.send(Dir::C2S, "PORT 198,18,0,2,195,81\r\n");
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,77,195,80\r\nPORT 198,51,100,77,195,81\r\n");
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
}

TEST(TcpWindow, RstInWindowEndsTheSession) {
  EngineHarness h(EngineConfig{});
  rewrittenSession(h);
  h.sendAt(Dir::C2S, h.sndNext(Dir::C2S), "", kRstAck);
  EXPECT_EQ(h.engine().sessionCount(), 0u);
  EXPECT_EQ(h.engine().counter(Counter::RstOutOfWindow), 0u);
}

// An RST at the server's next byte ends the session at once.
TEST(TcpWindow, RstFromTheServerAtItsNextByteEndsTheSession) {
  EngineHarness h(EngineConfig{});
  rewrittenSession(h);
  h.sendAt(Dir::S2C, h.sndNext(Dir::S2C), "", TcpRst);
  EXPECT_EQ(h.engine().sessionCount(), 0u);
  EXPECT_EQ(h.engine().counter(Counter::RstChallenged), 0u);
}

// One in window but not exact (RFC 5961: the client answers with a challenge ACK and keeps its
// connection) ends the session only when nothing follows it for resetPendingTimeout.
TEST(TcpWindow, RstFromTheServerInWindowEndsTheSessionOnlyIfNothingFollows) {
  EngineHarness::Options o;
  o.autoAck = false;  // no challenge ACK: the client is silent
  EngineHarness h(EngineConfig{}, o);
  rewrittenSession(h);
  h.ackFrom(Dir::C2S);
  h.ackFrom(Dir::S2C);
  h.sendAt(Dir::S2C, h.sndNext(Dir::S2C) + 10, "", TcpRst);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
  EXPECT_EQ(h.engine().counter(Counter::RstChallenged), 1u);
  Actions acts;
  h.engine().expire(h.nowNs + EngineConfig{}.resetPendingTimeoutNs - 1, acts);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
  h.engine().expire(h.nowNs + EngineConfig{}.resetPendingTimeoutNs, acts);
  EXPECT_EQ(h.engine().sessionCount(), 0u);
  EXPECT_EQ(h.engine().counter(Counter::RstPendingEnded), 1u);
}

// Before the server's SYN-ACK only the RST's acknowledgement of the client's SYN can be checked.
TEST(TcpWindow, RstOnAHalfOpenSessionMustAcknowledgeTheSyn) {
  Engine engine(EngineConfig{}, nullptr);
  const Endpoint c = endpoint("198.18.0.2:40000");
  const Endpoint sv = endpoint("198.19.0.2:21");
  auto feed = [&](std::vector<uint8_t> pkt) {
    const PacketParse pp = parsePacket(pkt);
    Actions acts;
    engine.onSegment(Segment{&pp.view, 1}, 1, acts);
  };
  feed(PacketBuilder().v4(c, sv).seq(100).flags(TcpSyn).build());
  feed(PacketBuilder().v4(sv, c).seq(0).ack(7).flags(kRstAck).build());
  EXPECT_EQ(engine.sessionCount(), 1u);
  EXPECT_EQ(engine.counter(Counter::RstOutOfWindow), 1u);
  feed(PacketBuilder().v4(sv, c).seq(0).ack(101).flags(kRstAck).build());
  EXPECT_EQ(engine.sessionCount(), 0u);
}

// (The harness's receivers would re-learn their stream from any SYN they are given, so these
// check what leaves the gateway instead of what is reassembled.)
TEST(TcpWindow, SpoofedSynOnAnEstablishedSessionIsIgnored) {
  EngineHarness h(EngineConfig{});
  rewrittenSession(h);
  const uint32_t next = h.sndNext(Dir::C2S);
  const size_t before = h.actions.size();
  h.sendAt(Dir::C2S, next - 500'000, "", TcpSyn);
  ASSERT_GT(h.actions.size(), before);
  EXPECT_EQ(h.actions[before].verdict, PacketVerdict::Accept);
  EXPECT_EQ(h.engine().counter(Counter::SynIgnored), 1u);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
  EXPECT_EQ(h.engine().counter(Counter::Sessions), 1u);
  // Later announcements are still rewritten, at the shifted sequence number (+3).
  h.sendAt(Dir::C2S, next, "PORT 198,18,0,2,195,81\r\n");
  ASSERT_FALSE(h.events.empty());
  EXPECT_EQ(h.events.back().verdict, Verdict::Admit);
  EXPECT_EQ(h.events.back().rewritten, endpoint("198.51.100.77:50001"));
  bool sent = false;
  for (size_t i = before; i < h.actions.size(); ++i) {
    const PacketAction& a = h.actions[i];
    if (a.verdict != PacketVerdict::Rewrite || a.payload.empty()) continue;
    EXPECT_EQ(std::string(a.payload.begin(), a.payload.end()), "PORT 198,51,100,77,195,81\r\n");
    EXPECT_EQ(a.seq, next + 3);
    sent = true;
  }
  EXPECT_TRUE(sent);
}

TEST(TcpWindow, SpoofedSynAckChangesNothing) {
  EngineHarness h(EngineConfig{});
  rewrittenSession(h);
  const size_t before = h.actions.size();
  h.sendAt(Dir::S2C, 4242, "", TcpSyn | TcpAck);
  EXPECT_EQ(h.actions[before].verdict, PacketVerdict::Accept);
  EXPECT_EQ(h.engine().counter(Counter::SynIgnored), 1u);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
}

TEST(TcpWindow, SynAckMustAcknowledgeTheClientSyn) {
  Engine engine(EngineConfig{}, nullptr);
  const Endpoint c = endpoint("198.18.0.2:40000");
  const Endpoint sv = endpoint("198.19.0.2:21");
  auto feed = [&](std::vector<uint8_t> pkt) {
    const PacketParse pp = parsePacket(pkt);
    Actions acts;
    engine.onSegment(Segment{&pp.view, 1}, 1, acts);
  };
  feed(PacketBuilder().v4(c, sv).seq(100).flags(TcpSyn).build());
  feed(PacketBuilder().v4(sv, c).seq(9).ack(55).flags(TcpSyn | TcpAck).build());
  EXPECT_EQ(engine.counter(Counter::SynIgnored), 1u);
  feed(PacketBuilder().v4(sv, c).seq(500).ack(101).flags(TcpSyn | TcpAck).build());
  EXPECT_EQ(engine.counter(Counter::SynIgnored), 1u);
  feed(PacketBuilder().v4(sv, c).seq(9).ack(101).flags(TcpSyn | TcpAck).build());  // another ISN
  EXPECT_EQ(engine.counter(Counter::SynIgnored), 2u);
}

TEST(TcpWindow, SynAfterFinStartsANewConnectionOnTheTuple) {
  EngineHarness h(EngineConfig{});
  rewrittenSession(h);
  h.fin(Dir::C2S);
  h.sendAt(Dir::C2S, 90'000, "", TcpSyn);
  EXPECT_EQ(h.engine().counter(Counter::SynIgnored), 0u);
  EXPECT_EQ(h.engine().counter(Counter::Sessions), 2u);
  EXPECT_EQ(h.engine().counter(Counter::SessionsEnded), 1u);
}

TEST(TcpWindow, NewSynReplacesASessionTheServerNeverAnswered) {
  EngineHarness h(EngineConfig{}, {.autoAck = false});
  h.sendAt(Dir::C2S, 1000, "", TcpSyn);
  h.sendAt(Dir::C2S, 9000, "", TcpSyn);
  EXPECT_EQ(h.engine().counter(Counter::Sessions), 2u);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
}

TEST(TcpWindow, SynWithRstIsIgnored) {
  EngineHarness h(EngineConfig{});
  rewrittenSession(h);
  h.sendAt(Dir::C2S, h.sndNext(Dir::C2S), "", TcpSyn | TcpRst);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
  EXPECT_EQ(h.engine().counter(Counter::InvalidTcpFlags), 1u);
}

// Data far outside the window is what conntrack marks invalid: dropped, but it must not count
// towards the gap resynchronisation that would make the engine skip bytes.
TEST(TcpWindow, DataBeyondTheWindowNeverForcesAGapResync) {
  EngineHarness h(EngineConfig{});
  rewrittenSession(h);
  const uint32_t next = h.sndNext(Dir::C2S);
  for (int i = 0; i < 40; ++i) h.sendAt(Dir::C2S, next + 5'000'000, "PORT 1\r\n");
  EXPECT_EQ(h.engine().counter(Counter::GapResync), 0u);
  EXPECT_EQ(h.engine().counter(Counter::OutOfWindow), 40u);
  h.sendAt(Dir::C2S, next, "PORT 198,18,0,2,195,81\r\n");
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,77,195,80\r\nPORT 198,51,100,77,195,81\r\n");
}

TEST(TcpWindow, BeyondWindowIsRelativeToTheNextByte) {
  DirState ds;
  ds.started = true;
  ds.next = 0xFFFFFF00u;  // wraps
  EXPECT_FALSE(beyondWindow(ds, ds.next + kWindowSlack));
  EXPECT_TRUE(beyondWindow(ds, ds.next + kWindowSlack + 1));
}

// An RST in window but not exact (engine_screen.cc, onRst): forwarded, the session kept with its
// sequence shift while the connection shows it lives on (RFC 5961: the endpoint answers with a
// challenge ACK), ended only when nothing follows for resetPendingTimeout.
constexpr uint64_t kSecond = 1'000'000'000;

EngineHarness::Options silent() {
  EngineHarness::Options o;
  o.autoAck = false;
  return o;
}

// rewrittenSession with every segment acknowledged (for harnesses without autoAck).
void ackedRewrittenSession(EngineHarness& h) {
  h.setNat(
      NatBinding{h.client().addr, ipFromText("198.51.100.77"), h.server().addr, h.server().addr});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.ackFrom(Dir::S2C);
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  h.ackFrom(Dir::C2S);
  h.send(Dir::S2C, "200 ok\r\n");
  h.ackFrom(Dir::S2C);
}

size_t expireAt(EngineHarness& h, uint64_t now) {
  Actions acts;
  h.engine().expire(now, acts);
  return h.engine().sessionCount();
}

TEST(RstPending, ChallengeAckKeepsTheSessionAndItsShift) {
  EngineHarness h(EngineConfig{});  // the server acknowledges at once: its challenge ACK
  ackedRewrittenSession(h);
  const size_t before = h.actions.size();
  const uint32_t next = h.sndNext(Dir::C2S);
  h.sendAt(Dir::C2S, next + 1000, "", kRstAck);
  ASSERT_GT(h.actions.size(), before);
  EXPECT_NE(h.actions[before].verdict, PacketVerdict::Drop);  // the endpoint must see it
  EXPECT_EQ(h.engine().counter(Counter::RstChallenged), 1u);
  EXPECT_EQ(expireAt(h, h.nowNs + 60 * kSecond), 1u);
  EXPECT_EQ(h.engine().counter(Counter::RstPendingEnded), 0u);
  h.sendAt(Dir::C2S, next, "PORT 198,18,0,2,195,81\r\n");
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,77,195,80\r\nPORT 198,51,100,77,195,81\r\n");
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
}

TEST(RstPending, RstAtWhatTheReceiverAcknowledgedEndsAtOnce) {
  EngineHarness h(EngineConfig{}, silent());
  ackedRewrittenSession(h);
  const uint32_t acked = h.sndNext(Dir::S2C);
  h.send(Dir::S2C, "150 here it comes\r\n");  // not acknowledged
  h.sendAt(Dir::S2C, acked, "", TcpRst);
  EXPECT_EQ(h.engine().sessionCount(), 0u);
  EXPECT_EQ(h.engine().counter(Counter::RstChallenged), 0u);
}

TEST(RstPending, DataFromTheOtherSideClearsIt) {
  EngineHarness h(EngineConfig{}, silent());
  ackedRewrittenSession(h);
  h.sendAt(Dir::S2C, h.sndNext(Dir::S2C) + 10, "", TcpRst);
  h.send(Dir::C2S, "NOOP\r\n");
  EXPECT_EQ(expireAt(h, h.nowNs + 60 * kSecond), 1u);
}

TEST(RstPending, AnAdvancingAckFromTheRstSenderClearsIt) {
  EngineHarness h(EngineConfig{}, silent());
  ackedRewrittenSession(h);
  h.send(Dir::S2C, "150 here it comes\r\n");
  h.sendAt(Dir::C2S, h.sndNext(Dir::C2S) + 10, "", TcpRst);  // acknowledges nothing itself
  EXPECT_EQ(h.engine().counter(Counter::RstChallenged), 1u);
  h.ackFrom(Dir::S2C);  // the client acknowledges the 150
  EXPECT_EQ(expireAt(h, h.nowNs + 60 * kSecond), 1u);
}

// A bare ACK of the RST's sender that acknowledges nothing new is no sign of life (a blind
// sender could have sent it as well as the RST).
TEST(RstPending, AStaleAckFromTheRstSenderDoesNotClearIt) {
  EngineConfig cfg;
  cfg.resetPendingTimeoutNs = 2 * kSecond;
  EngineHarness h(cfg, silent());
  ackedRewrittenSession(h);
  h.sendAt(Dir::C2S, h.sndNext(Dir::C2S) + 10, "", kRstAck);
  const uint64_t rstAt = h.nowNs;  // the harness's clock moves 1 us a packet
  h.ackFrom(Dir::S2C);             // nothing new from the server to acknowledge
  h.sendAt(Dir::C2S, h.sndNext(Dir::C2S) + 20, "", kRstAck);  // a second one: deadline kept
  EXPECT_EQ(h.engine().counter(Counter::RstChallenged), 2u);
  EXPECT_EQ(expireAt(h, rstAt + 2 * kSecond - 1), 1u);
  EXPECT_EQ(expireAt(h, rstAt + 2 * kSecond), 0u);
  EXPECT_EQ(h.engine().counter(Counter::RstPendingEnded), 1u);
}

TEST(RstPending, AnExactRstWhilePendingEndsAtOnce) {
  EngineHarness h(EngineConfig{}, silent());
  ackedRewrittenSession(h);
  const uint32_t next = h.sndNext(Dir::S2C);
  h.sendAt(Dir::S2C, next + 10, "", TcpRst);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
  h.sendAt(Dir::S2C, next, "", TcpRst);
  EXPECT_EQ(h.engine().sessionCount(), 0u);
}

TEST(RstPending, CounterHasAName) {
  EXPECT_EQ(counterName(Counter::RstChallenged), "rst_challenged");
  EXPECT_EQ(counterName(Counter::RstPendingEnded), "rst_pending_ended");
}

}  // namespace
}  // namespace ftpalg::test
