// An RST in window but not exact (engine_screen.cc, onRst): forwarded, the session kept with its
// sequence shift while the connection shows it lives on (RFC 5961: the endpoint answers with a
// challenge ACK), ended only when nothing follows for resetPendingTimeout.
#include <gtest/gtest.h>

#include <string>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

constexpr uint8_t kRstAck = TcpRst | TcpAck;
constexpr uint64_t kSecond = 1'000'000'000;

EngineHarness::Options silent() {
  EngineHarness::Options o;
  o.autoAck = false;
  return o;
}

// A session with a length-changing rewrite behind it: 198.18.0.2 -> 198.51.100.77 (+3 bytes),
// everything acknowledged.
void rewrittenSession(EngineHarness& h) {
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
  rewrittenSession(h);
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
  rewrittenSession(h);
  const uint32_t acked = h.sndNext(Dir::S2C);
  h.send(Dir::S2C, "150 here it comes\r\n");  // not acknowledged
  h.sendAt(Dir::S2C, acked, "", TcpRst);
  EXPECT_EQ(h.engine().sessionCount(), 0u);
  EXPECT_EQ(h.engine().counter(Counter::RstChallenged), 0u);
}

TEST(RstPending, DataFromTheOtherSideClearsIt) {
  EngineHarness h(EngineConfig{}, silent());
  rewrittenSession(h);
  h.sendAt(Dir::S2C, h.sndNext(Dir::S2C) + 10, "", TcpRst);
  h.send(Dir::C2S, "NOOP\r\n");
  EXPECT_EQ(expireAt(h, h.nowNs + 60 * kSecond), 1u);
}

TEST(RstPending, AnAdvancingAckFromTheRstSenderClearsIt) {
  EngineHarness h(EngineConfig{}, silent());
  rewrittenSession(h);
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
  rewrittenSession(h);
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
  rewrittenSession(h);
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
