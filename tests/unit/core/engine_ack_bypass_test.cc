// The engine when the queue rules let pure acknowledgements bypass it (docs/design.md, "Packets
// the engine need not see"): a session whose pure ACKs never reach the engine until a rewrite
// changes a length (Actions::streamShifted) is served exactly as one that sees them all:
// the same events, the same bytes delivered, correct acknowledgements back to each sender,
// retransmissions rewritten or refused as before, RSTs judged by the acknowledgements that data
// packets carry. Driven through tests/support/engine_harness.h with Options::bypassPureAcks.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"
#include "tests/support/nat_bindings.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

constexpr uint8_t kRstAck = TcpRst | TcpAck;
using Script = std::function<void(EngineHarness&)>;

EngineHarness::Options withBypass(bool bypass) {
  EngineHarness::Options o;
  o.bypassPureAcks = bypass;
  return o;
}

// What one run of a script shows from outside the engine.
struct Outcome {
  std::vector<std::string> events;  // kind verdict reason announced->rewritten, in order
  std::string toServer, toClient;   // bytes delivered
  uint32_t ackToClient = 0, ackToServer = 0;
  uint32_t clientNext = 0, serverNext = 0;
  size_t drops = 0;
  std::vector<uint64_t> counters;
};

std::string eventText(const Event& e) {
  std::string t = std::string(eventKindName(e.kind)) + " " + std::string(verdictName(e.verdict)) +
                  " " + std::string(reasonName(e.reason));
  if (e.hasRewritten) t += " rewritten";
  return t;
}

// Runs `script` on a fresh harness with or without the bypass; the harness is kept in `out`.
Outcome run(const Script& script, bool bypass, std::unique_ptr<EngineHarness>* keep = nullptr) {
  auto h = std::make_unique<EngineHarness>(EngineConfig{}, withBypass(bypass));
  script(*h);
  Outcome o;
  for (const Event& e : h->events) o.events.push_back(eventText(e));
  o.toServer = h->delivered(Dir::C2S);
  o.toClient = h->delivered(Dir::S2C);
  o.ackToClient = h->lastAckTo(Dir::C2S);
  o.ackToServer = h->lastAckTo(Dir::S2C);
  o.clientNext = h->sndNext(Dir::C2S);
  o.serverNext = h->sndNext(Dir::S2C);
  o.drops = h->drops;
  for (Counter c :
       {Counter::Rewrites, Counter::Admitted, Counter::Refused, Counter::Retransmissions,
        Counter::RetransmitMismatch, Counter::RstOutOfWindow, Counter::SessionsEnded}) {
    o.counters.push_back(h->engine().counter(c));
  }
  EXPECT_EQ(h->badChecksums, 0u);
  EXPECT_EQ(h->inconsistentOverlaps, 0u);
  EXPECT_EQ(h->shiftedBeforeSwitch, 0u) << "a shifted packet left before the switch";
  if (keep != nullptr) *keep = std::move(h);
  return o;
}

// Same outcome with and without the bypass, and the bypass really kept ACKs away.
void expectSame(const Script& script, size_t minBypassed = 1) {
  std::unique_ptr<EngineHarness> all;
  std::unique_ptr<EngineHarness> bypassed;
  const Outcome a = run(script, false, &all);
  const Outcome b = run(script, true, &bypassed);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.toServer, b.toServer);
  EXPECT_EQ(a.toClient, b.toClient);
  EXPECT_EQ(a.ackToClient, b.ackToClient);
  EXPECT_EQ(a.ackToServer, b.ackToServer);
  EXPECT_EQ(a.drops, b.drops);
  EXPECT_EQ(a.counters, b.counters);
  // Every sender got the acknowledgement of all it sent, in its own (original) numbers.
  EXPECT_EQ(b.ackToClient, b.clientNext);
  EXPECT_EQ(b.ackToServer, b.serverNext);
  EXPECT_GE(bypassed->bypassedAcks, minBypassed);
  EXPECT_LT(bypassed->segmentsSeen, all->segmentsSeen);
  std::printf(
      "segments the engine saw: %zu with every packet, %zu with the ACK bypass (%zu "
      "pure ACKs bypassed)\n",
      all->segmentsSeen, bypassed->segmentsSeen, bypassed->bypassedAcks);
}

void login(EngineHarness& h) {
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "USER anonymous\r\n");
  h.send(Dir::S2C, "331 password\r\n");
  h.send(Dir::C2S, "PASS x\r\n");
  h.send(Dir::S2C, "230 in\r\n");
}

TEST(EngineAckBypass, PlainSessionNoopLoopAndPassiveTransfer) {
  expectSame(
      [](EngineHarness& h) {
        login(h);
        for (int i = 0; i < 5; ++i) {
          h.send(Dir::C2S, "NOOP\r\n");
          h.send(Dir::S2C, "200 ok\r\n");
        }
        h.send(Dir::C2S, "PASV\r\n");
        h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
        h.send(Dir::C2S, "RETR f\r\n");
        h.send(Dir::S2C, "150 here\r\n226 done\r\n");
        h.send(Dir::C2S, "QUIT\r\n");
        EXPECT_FALSE(h.shifted);
      },
      10);
}

TEST(EngineAckBypass, LengthChangingReplyRewriteSwitchesBeforeItsPacketLeaves) {
  expectSame([](EngineHarness& h) {
    h.setNat(dnatBinding(h, "203.0.113.200"));
    login(h);
    EXPECT_FALSE(h.shifted);
    h.send(Dir::C2S, "PASV\r\n");
    h.send(Dir::S2C, "227 Entering Passive Mode (203,0,113,200,156,64)\r\n");
    EXPECT_TRUE(h.shifted);
    h.send(Dir::C2S, "RETR f\r\n");
    h.send(Dir::S2C, "150 here\r\n226 done\r\n");
    h.send(Dir::C2S, "PASV\r\n");
    h.send(Dir::S2C, "227 Entering Passive Mode (203,0,113,200,156,65)\r\n");
    h.send(Dir::C2S, "QUIT\r\n");
    h.send(Dir::S2C, "221 bye\r\n");
    EXPECT_NE(h.delivered(Dir::S2C).find("(198,19,0,2,156,65)"), std::string::npos);
  });
}

// An address spliced early (one-byte segments) shifts the stream before its line completes:
// the switch comes with that splice, not with the event at the end of the line.
TEST(EngineAckBypass, EarlySplicedPortSwitchesBeforeTheLineCompletes) {
  expectSame([](EngineHarness& h) {
    h.setNat(snatBinding(h, "198.51.100.7"));
    login(h);
    const std::string line = "PORT 198,18,0,2,195,80\r\n";
    bool shiftedBeforeEvent = false;
    const size_t before = h.events.size();
    for (char c : line) {
      h.send(Dir::C2S, std::string(1, c));
      if (h.shifted && h.events.size() == before) shiftedBeforeEvent = true;
    }
    EXPECT_TRUE(shiftedBeforeEvent);
    h.send(Dir::S2C, "200 ok\r\n");
    h.send(Dir::C2S, "NOOP\r\n");
    h.send(Dir::S2C, "200 ok\r\n");
    EXPECT_NE(h.delivered(Dir::C2S).find("PORT 198,51,100,7,195,80\r\nNOOP\r\n"),
              std::string::npos);
  });
}

// A rewrite of the same length shifts nothing: the ACKs keep bypassing.
TEST(EngineAckBypass, SameLengthRewriteKeepsTheBypass) {
  std::unique_ptr<EngineHarness> h;
  const Outcome o = run(
      [](EngineHarness& x) {
        x.setNat(snatBinding(x, "198.18.0.9"));
        login(x);
        x.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
        x.send(Dir::S2C, "200 ok\r\n");
        x.send(Dir::C2S, "NOOP\r\n");
        x.send(Dir::S2C, "200 ok\r\n");
      },
      true, &h);
  EXPECT_FALSE(h->shifted);
  EXPECT_NE(o.toServer.find("PORT 198,18,0,9,195,80\r\n"), std::string::npos);
  EXPECT_EQ(o.counters[0], 1u);  // Rewrites
  EXPECT_EQ(o.ackToClient, o.clientNext);
  EXPECT_GE(h->bypassedAcks, 8u);
}

// Retransmissions: identical ones pass as before; one that differs from what was inspected is
// refused (the flight bytes stay until a data packet of the peer acknowledges them).
TEST(EngineAckBypass, RetransmissionsOfAPlainSession) {
  expectSame([](EngineHarness& h) {
    login(h);
    const uint32_t at = h.sndNext(Dir::C2S);
    h.send(Dir::C2S, "PASV\r\n");
    h.sendAt(Dir::C2S, at, "PASV\r\n");  // lost ACK: the client sends it again
    h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
    const uint32_t reply = h.sndNext(Dir::S2C);
    h.send(Dir::S2C, "150 x\r\n");
    h.sendAt(Dir::S2C, reply, "150 x\r\n");
  });
  std::unique_ptr<EngineHarness> h;
  (void)run(
      [](EngineHarness& x) {
        login(x);
        const uint32_t at = x.sndNext(Dir::C2S);
        x.send(Dir::C2S, "NOOP\r\n");
        x.sendAt(Dir::C2S, at, "PORT\r\n");  // not what was inspected at these numbers
      },
      true, &h);
  EXPECT_EQ(h->engine().counter(Counter::RetransmitMismatch), 1u);
}

TEST(EngineAckBypass, RetransmittedRewrittenReplyIsRewrittenAgain) {
  expectSame([](EngineHarness& h) {
    h.setNat(dnatBinding(h, "203.0.113.200"));
    login(h);
    h.send(Dir::C2S, "PASV\r\n");
    const uint32_t at = h.sndNext(Dir::S2C);
    h.send(Dir::S2C, "227 Entering Passive Mode (203,0,113,200,156,64)\r\n");
    h.sendAt(Dir::S2C, at, "227 Entering Passive Mode (203,0,113,200,156,64)\r\n");
    EXPECT_TRUE(h.shifted);
    h.send(Dir::C2S, "NOOP\r\n");
    h.send(Dir::S2C, "200 ok\r\n");
  });
}

// The RST check's lower edge is what the peer acknowledged; without pure ACKs that is what its
// data packets acknowledged. An RST at the next byte ends the session, one before the data
// acknowledgement or far beyond the window does not.
TEST(EngineAckBypass, RstWindowUsesTheAcknowledgementsOfDataPackets) {
  std::unique_ptr<EngineHarness> h;
  (void)run(
      [](EngineHarness& x) {
        login(x);
        const uint32_t user = x.sndNext(Dir::C2S);
        x.send(Dir::C2S, "NOOP\r\n");
        x.send(Dir::S2C, "200 ok\r\n");  // acknowledges the NOOP
        const uint32_t next = x.sndNext(Dir::C2S);
        x.sendAt(Dir::C2S, user - 8, "", kRstAck);
        x.sendAt(Dir::C2S, next + 1'000'000, "", kRstAck);
        EXPECT_EQ(x.engine().sessionCount(), 1u);
        x.sendAt(Dir::C2S, next, "", kRstAck);
      },
      true, &h);
  EXPECT_EQ(h->engine().counter(Counter::RstOutOfWindow), 2u);
  EXPECT_EQ(h->engine().sessionCount(), 0u);
  expectSame([](EngineHarness& x) {
    login(x);
    x.send(Dir::C2S, "NOOP\r\n");
    x.send(Dir::S2C, "200 ok\r\n");
    x.sendAt(Dir::S2C, x.sndNext(Dir::S2C) - 2'000'000, "", kRstAck);
    x.sendAt(Dir::S2C, x.sndNext(Dir::S2C), "", kRstAck);
  });
}

// Close: both FINs reach the engine; the last ACK is not needed to end the session.
TEST(EngineAckBypass, FinsCloseTheSessionWithoutTheLastAck) {
  std::unique_ptr<EngineHarness> h;
  (void)run(
      [](EngineHarness& x) {
        login(x);
        x.send(Dir::C2S, "QUIT\r\n");
        x.send(Dir::S2C, "221 bye\r\n");
        x.fin(Dir::S2C);
        x.ackFrom(Dir::S2C);
        x.fin(Dir::C2S);
        x.ackFrom(Dir::C2S);
      },
      true, &h);
  EXPECT_GE(h->bypassedAcks, 2u);
  Actions acts;
  EXPECT_FALSE(h->engine().expire(h->nowNs + EngineConfig{}.closeTimeoutNs + 1, acts));
  EXPECT_EQ(h->engine().sessionCount(), 0u);
}

// Without pure ACKs an idle session keeps its last reply in its flight buffer until the client
// sends again. When the pool runs out, such a buffer is emptied for a new session instead of
// the new session's data being dropped or the idle session ended.
TEST(EngineAckBypass, QuietFlightOfAnIdleSessionMakesRoomWithoutEndingIt) {
  EngineConfig cfg;
  cfg.maxBufferedDirections = 1;
  Engine engine(cfg, nullptr);
  uint64_t handle = 1;
  uint64_t now = 1'000'000'000;
  PacketVerdict last = PacketVerdict::Drop;
  const auto feed = [&](const Endpoint& src, const Endpoint& dst, uint32_t seq, uint32_t ack,
                        uint8_t flags, std::string_view data) {
    std::vector<uint8_t> pkt =
        PacketBuilder().v4(src, dst).seq(seq).ack(ack).flags(flags).payload(data).build();
    const PacketParse pp = parsePacket(pkt);
    Actions acts;
    engine.onSegment(Segment{&pp.view, handle++}, now += 1000, acts);
    for (size_t i = 0; i < acts.packetCount; ++i) last = acts.packets[i].verdict;
  };
  const Endpoint server = endpoint("198.19.0.2:21");
  // Session A: greeting, USER, 331; the client's ACK of the 331 never reaches the engine.
  const Endpoint a = endpoint("198.18.0.2:40000");
  feed(a, server, 100, 0, TcpSyn, "");
  feed(server, a, 500, 101, TcpSyn | TcpAck, "");
  feed(server, a, 501, 101, TcpAck | TcpPsh, "220 ready\r\n");
  feed(a, server, 101, 512, TcpAck | TcpPsh, "USER x\r\n");
  feed(server, a, 512, 109, TcpAck | TcpPsh, "331 pass\r\n");
  // Session B needs the only buffer for its greeting.
  const Endpoint b = endpoint("198.18.0.3:40000");
  feed(b, server, 700, 0, TcpSyn, "");
  feed(server, b, 900, 701, TcpSyn | TcpAck, "");
  feed(server, b, 901, 701, TcpAck | TcpPsh, "220 ready\r\n");
  EXPECT_EQ(last, PacketVerdict::Accept);
  EXPECT_EQ(engine.counter(Counter::PoolExhausted), 0u);
  EXPECT_EQ(engine.counter(Counter::InFlightEvicted), 1u);
  EXPECT_EQ(engine.counter(Counter::SessionsEnded), 0u);
  EXPECT_EQ(engine.sessionCount(), 2u);
  // A goes on: its next command is served as before.
  feed(a, server, 109, 522, TcpAck | TcpPsh, "PASV\r\n");
  EXPECT_EQ(engine.counter(Counter::MidstreamPickup), 0u);
}

}  // namespace
}  // namespace ftpalg::test
