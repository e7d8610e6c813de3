// Engine behaviour, one named test per edge case of the design (docs/design.md), driven through
// a simulated TCP connection (tests/support/engine_harness.h).
#include "ftpalg/core/engine.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/engine_harness.h"
#include "tests/support/nat_bindings.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

EngineConfig defaultConfig() { return EngineConfig{}; }

TEST(Engine, PortWholeSegmentNoNat) {
  EngineHarness h(defaultConfig());
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  const Event& e = h.events[0];
  EXPECT_EQ(e.kind, EventKind::Port);
  EXPECT_EQ(e.dir, Dir::C2S);
  EXPECT_EQ(e.verdict, Verdict::Admit);
  EXPECT_EQ(e.reason, Reason::Ok);
  EXPECT_EQ(e.announced, endpoint("198.18.0.2:50000"));
  EXPECT_FALSE(e.hasRewritten);
  ASSERT_TRUE(e.hasExpect);
  EXPECT_EQ(e.expect.src.addr, h.server().addr);
  EXPECT_TRUE(e.expect.srcPortAny);
  EXPECT_EQ(e.expect.dst, endpoint("198.18.0.2:50000"));
  EXPECT_EQ(e.expect.natTo, endpoint("198.18.0.2:50000"));
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,18,0,2,195,80\r\n");
  EXPECT_EQ(h.badChecksums, 0u);
}

TEST(Engine, SlipstreamedErrorEchoIsIgnored) {
  EngineHarness h(defaultConfig());
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\nRETR x\r\n");
  // The reply to PASV is an error; the text echoing a 227 must not open anything, nor the
  // continuation line of a multi-line error that starts with "227 ".
  h.send(Dir::S2C, "500 bad 227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  h.send(Dir::S2C,
         "550-No such file\r\n227 Entering Passive Mode (198,19,0,2,156,65)\r\n550 x\r\n");
  EXPECT_EQ(h.engine().counter(Counter::Admitted), 0u);
  for (const Event& e : h.events) EXPECT_NE(e.verdict, Verdict::Admit);
}

TEST(Engine, CommandSplitIntoOneByteSegmentsIsHeldAndCoalesced) {
  EngineHarness h(defaultConfig());
  h.setNat(snatBinding(h, "198.51.100.7"));
  h.handshake();
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n", {1});
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,7,195,80\r\n");
  EXPECT_EQ(h.heldNow(), 0u);
  EXPECT_GT(h.engine().counter(Counter::HeldSegments), 0u);
  EXPECT_EQ(h.lastAckTo(Dir::C2S), h.sndNext(Dir::C2S));
}

TEST(Engine, WithoutNatASplitCommandIsInspectedButNeverHeld) {
  EngineHarness h(defaultConfig());
  h.handshake();
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n", {1});
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.engine().counter(Counter::HeldSegments), 0u);
  // The last byte's packet carries the event: the pinhole exists before it is released.
  EXPECT_EQ(h.events[0].handle, h.actions.back().handle - 1);
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,18,0,2,195,80\r\n");
}

TEST(Engine, OneByteSegmentsHoldOnlyTheDifferingAddressBytes) {
  // A sender limited by its congestion window (about 10 segments) must never wait on bytes held
  // here: only the part of the address that differs between inside and outside is held.
  EngineHarness h(defaultConfig(), {.autoAck = true});
  h.setNat(snatBinding(h, "198.51.100.7"));
  h.handshake();
  const std::string line = "PORT 198,18,0,2,195,80\r\n";
  size_t maxHeld = 0;
  for (char c : line) {
    h.send(Dir::C2S, std::string(1, c));
    maxHeld = std::max(maxHeld, h.heldNow());
  }
  EXPECT_EQ(maxHeld, 6u);  // "18,0,2" of "198,18,0,2,": "198," reads the same outside
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.events[0].rewritten, endpoint("198.51.100.7:50000"));
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,7,195,80\r\n");
  EXPECT_EQ(h.lastAckTo(Dir::C2S), h.sndNext(Dir::C2S));
}

TEST(Engine, RetransmissionOfRewrittenSegmentIsRewrittenIdentically) {
  EngineHarness h(defaultConfig(), {.autoAck = false});
  h.setNat(snatBinding(h, "198.51.100.7"));
  h.handshake();
  const uint32_t start = h.sndNext(Dir::C2S);
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  const size_t before = h.actions.size();
  h.sendAt(Dir::C2S, start, "PORT 198,18,0,2,195,80\r\n");  // full retransmission
  h.sendAt(Dir::C2S, start + 5, "198,18,0,2,195,80\r\n");   // partial, starting in the span
  ASSERT_GT(h.actions.size(), before);
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,7,195,80\r\n");
  EXPECT_EQ(h.events.size(), 1u);  // the retransmission is not a second announcement
  EXPECT_EQ(h.badChecksums, 0u);
}

TEST(Engine, OverlappingRetransmissionWithDifferentBytesIsEvasion) {
  EngineHarness h(defaultConfig(), {.autoAck = false});
  h.handshake();
  const uint32_t start = h.sndNext(Dir::C2S);
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  const size_t drops = h.drops;
  h.sendAt(Dir::C2S, start, "PORT 198,18,0,2,195,99\r\n");
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[1].kind, EventKind::Evasion);
  EXPECT_EQ(h.events[1].verdict, Verdict::Refuse);
  EXPECT_EQ(h.events[1].reason, Reason::RetransmitMismatch);
  EXPECT_EQ(h.drops, drops + 1);
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
  EXPECT_EQ(h.engine().counter(Counter::RetransmitMismatch), 1u);
}

TEST(Engine, SackBlocksAfterLengthChangeAreMappedBack) {
  EngineHarness h(defaultConfig(), {.autoAck = false});
  h.setNat(snatBinding(h, "198.51.100.7"));
  h.handshake();
  const uint32_t start = h.sndNext(Dir::C2S);
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");  // grows by 2 bytes
  h.send(Dir::C2S, "NOOP\r\n");
  // The server acknowledges the PORT line and SACKs the NOOP line, in its (rewritten) space.
  const uint32_t grown = start + 26;
  h.sendAt(Dir::S2C, h.sndNext(Dir::S2C), "", 0x10, {{grown + 0, grown + 6}});
  ASSERT_EQ(h.lastSackTo(Dir::C2S).size(), 1u);
  EXPECT_EQ(h.lastSackTo(Dir::C2S)[0].left, start + 24);
  EXPECT_EQ(h.lastSackTo(Dir::C2S)[0].right, start + 30);
}

TEST(Engine, RewriteLongerThanPeerMssIsTruncatedThenCompletedByRetransmission) {
  EngineHarness h(defaultConfig(), {.serverMss = 30, .autoAck = false});
  h.setNat(snatBinding(h, "198.51.100.7"));
  h.handshake();
  const uint32_t start = h.sndNext(Dir::C2S);
  const std::string line = "PORT 198,18,0,2,195,80\r\nNOOP\r\n";  // 30 bytes, grows to 32
  h.sendAt(Dir::C2S, start, line);
  EXPECT_EQ(h.engine().counter(Counter::RewriteExceedsMss), 1u);
  EXPECT_EQ(h.delivered(Dir::C2S).size(), 30u);
  h.ackFrom(Dir::C2S);
  const uint32_t acked = h.lastAckTo(Dir::C2S);
  ASSERT_TRUE(acked - start < line.size());
  h.sendAt(Dir::C2S, acked, std::string_view(line).substr(acked - start));
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,7,195,80\r\nNOOP\r\n");
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
}

TEST(Engine, SegmentAheadOfGapIsDroppedThenRecovered) {
  EngineHarness h(defaultConfig());
  h.handshake();
  const uint32_t start = h.sndNext(Dir::C2S);
  h.sendAt(Dir::C2S, start + 6, "PORT 198,18,0,2,195,80\r\n");
  EXPECT_EQ(h.engine().counter(Counter::OutOfOrderDropped), 1u);
  EXPECT_TRUE(h.events.empty());
  h.sendAt(Dir::C2S, start, "NOOP\r\n");
  h.sendAt(Dir::C2S, start + 6, "PORT 198,18,0,2,195,80\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.delivered(Dir::C2S), "NOOP\r\nPORT 198,18,0,2,195,80\r\n");
}

TEST(Engine, GapResyncForgetsPairingThenRelearns) {
  EngineConfig cfg;
  cfg.resyncOnGap = true;
  EngineHarness h(cfg);
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "RETR a\r\n");
  // The server's "150 Opening" was never seen: a gap in the server's stream.
  const uint32_t at = h.sndNext(Dir::S2C);
  h.sendAt(Dir::S2C, at + 20, "226 done\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].kind, EventKind::Desync);
  EXPECT_EQ(h.events[1].kind, EventKind::Pasv227);
  EXPECT_EQ(h.events[1].verdict, Verdict::Admit);
  EXPECT_EQ(h.engine().counter(Counter::GapResync), 1u);
}

// Conntrack knows a connection's NAT only once its SYN has been confirmed, after the forward
// hook saw it: the engine must ask after the SYN, not at it.
TEST(Engine, NatBindingIsResolvedAfterTheClientSyn) {
  struct LateNat : NatResolver {
    int calls = 0;
    bool ready = false;
    NatBinding b;
    bool resolve(const FlowKey&, NatBinding& out) override {
      ++calls;
      if (!ready) return false;
      out = b;
      return true;
    }
  } nat;
  const Endpoint c = endpoint("198.18.0.2:40000");
  const Endpoint sv = endpoint("198.19.0.2:21");
  nat.b = NatBinding{c.addr, ipFromText("198.51.100.7"), sv.addr, sv.addr};
  Engine engine(EngineConfig{}, &nat);
  auto feed = [&](std::vector<uint8_t> pkt) {
    const PacketParse pp = parsePacket(pkt);
    Actions acts;
    engine.onSegment(Segment{&pp.view, 1}, 1, acts);
    return acts;
  };
  feed(PacketBuilder().v4(c, sv).seq(100).flags(TcpSyn).build());
  EXPECT_EQ(nat.calls, 0);
  nat.ready = true;  // the SYN left the gateway: conntrack confirmed it
  feed(PacketBuilder().v4(sv, c).seq(500).ack(101).flags(TcpSyn | TcpAck).build());
  EXPECT_EQ(nat.calls, 1);
  const Actions a = feed(
      PacketBuilder().v4(c, sv).seq(101).ack(501).payload("PORT 198,18,0,2,195,80\r\n").build());
  ASSERT_EQ(a.eventCount, 1u);
  EXPECT_EQ(a.events[0].rewritten, endpoint("198.51.100.7:50000"));
  EXPECT_EQ(nat.calls, 1);
}

// Payload of a flow without a handshake (junk to a control port, forged sources) never asks
// the resolver: each question may cost a kernel query or a rationed conntrack scan that the
// legitimate sessions need. Once the server's side carried payload too the session is
// established (a mid-stream pickup) and the binding is asked for.
TEST(Engine, NatBindingIsNotAskedForJunkWithoutHandshake) {
  struct CountingNat : NatResolver {
    int calls = 0;
    bool resolve(const FlowKey&, NatBinding&) override {
      ++calls;
      return false;
    }
  } nat;
  Engine engine(EngineConfig{}, &nat);
  auto feed = [&](std::vector<uint8_t> pkt) {
    const PacketParse pp = parsePacket(pkt);
    Actions acts;
    engine.onSegment(Segment{&pp.view, 1}, 1, acts);
  };
  const Endpoint sv = endpoint("198.19.0.2:21");
  for (int i = 0; i < 100; ++i) {
    const Endpoint c = endpoint("198.18.128.1:" + std::to_string(2000 + i));
    feed(PacketBuilder().v4(c, sv).seq(100).ack(1).payload("NOOP").build());
  }
  EXPECT_EQ(nat.calls, 0);
  const Endpoint c = endpoint("198.18.0.2:40000");
  feed(PacketBuilder().v4(c, sv).seq(100).ack(500).payload("NOOP\r\n").build());
  EXPECT_EQ(nat.calls, 0);
  feed(PacketBuilder().v4(sv, c).seq(500).ack(106).payload("200 ok\r\n").build());
  EXPECT_EQ(nat.calls, 1);
}

TEST(Engine, IdleSessionStateIsSmall) {
  EXPECT_LE(Engine::sessionStateBytes(), 512u);
  EngineHarness h(defaultConfig());
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  EXPECT_EQ(h.engine().sessionCount(), 1u);
}

TEST(Engine, ExpireEndsIdleSessionsAndDropsHeldPackets) {
  EngineConfig cfg;
  cfg.idleTimeoutNs = 1000;
  EngineHarness h(cfg);
  h.setNat(snatBinding(h, "198.51.100.7"));
  h.handshake();
  h.send(Dir::C2S, "PORT 198,18,0");
  EXPECT_EQ(h.heldNow(), 1u);
  Actions acts;
  EXPECT_FALSE(h.engine().expire(h.nowNs + 1'000'000, acts));
  EXPECT_EQ(h.engine().sessionCount(), 0u);
  ASSERT_EQ(acts.packetCount, 1u);
  EXPECT_EQ(acts.packets[0].verdict, PacketVerdict::Drop);
}

// --- one exchange, then the events it produced -----------------------------------------------

// One segment (or one series of segments, `sizes` as in EngineHarness::send) of a table case.
struct Send {
  Dir dir;
  std::string text;
  std::vector<size_t> sizes = {};
};

// What one event must show; fields left unset are not checked.
struct ExpectedEvent {
  std::optional<EventKind> kind = std::nullopt;
  std::optional<Verdict> verdict = std::nullopt;
  std::optional<Reason> reason = std::nullopt;
  std::optional<bool> hasExpect = std::nullopt;
  std::optional<Endpoint> announced = std::nullopt;
  std::optional<uint16_t> announcedPort = std::nullopt;
  std::optional<bool> hasRewritten = std::nullopt;
  std::optional<Endpoint> rewritten = std::nullopt;
  std::optional<Endpoint> expectDst = std::nullopt;
  std::optional<Endpoint> natTo = std::nullopt;
  bool namesParseError = false;  // parseError is not ParseError::None
};

// Which side of the connection is behind NAT in a table case.
enum class NatSide { None, SnatClient, DnatServer };

// A connection, NAT as `nat` says: the sends, then exactly `events` (in order), counters and,
// when set, the streams as delivered and acknowledgements mapped back into the sender's numbers.
struct ExchangeCase {
  const char* name;
  EngineConfig config = {};
  EngineHarness::Options options = {};
  NatSide nat = NatSide::None;
  const char* natAddress = nullptr;  // the client's public or the server's private address
  bool handshake = true;             // false: the engine picks the connection up in the middle
  std::vector<Send> sends;
  std::vector<ExpectedEvent> events;
  std::vector<std::pair<Counter, uint64_t>> counters = {};
  std::optional<std::string> deliveredC2S = std::nullopt;
  std::optional<std::string> deliveredS2C = std::nullopt;
  std::vector<Dir> acksMappedBack = {};  // the sender of each sees acks in its own numbers
  bool streamClean = false;  // no bad checksum, no inconsistent overlap reached the receiver
};

void PrintTo(const ExchangeCase& c, std::ostream* os) { *os << c.name; }

class EngineExchange : public ::testing::TestWithParam<ExchangeCase> {};

TEST_P(EngineExchange, EventsCountersAndStream) {
  const ExchangeCase& c = GetParam();
  EngineHarness h(c.config, c.options);
  if (c.nat == NatSide::SnatClient) h.setNat(snatBinding(h, c.natAddress));
  if (c.nat == NatSide::DnatServer) h.setNat(dnatBinding(h, c.natAddress));
  if (c.handshake) h.handshake();
  for (const Send& s : c.sends) h.send(s.dir, s.text, s.sizes);
  ASSERT_EQ(h.events.size(), c.events.size()) << c.name;
  for (size_t i = 0; i < c.events.size(); ++i) {
    const Event& e = h.events[i];
    const ExpectedEvent& want = c.events[i];
    if (want.kind) {
      EXPECT_EQ(e.kind, *want.kind) << c.name << " event " << i;
    }
    if (want.verdict) {
      EXPECT_EQ(e.verdict, *want.verdict) << c.name << " event " << i;
    }
    if (want.reason) {
      EXPECT_EQ(e.reason, *want.reason) << c.name << " event " << i;
    }
    if (want.hasExpect) {
      EXPECT_EQ(e.hasExpect, *want.hasExpect) << c.name << " event " << i;
    }
    if (want.announced) {
      EXPECT_EQ(e.announced, *want.announced) << c.name << " event " << i;
    }
    if (want.announcedPort) {
      EXPECT_EQ(e.announced.port, *want.announcedPort) << c.name << " event " << i;
    }
    if (want.hasRewritten) {
      EXPECT_EQ(e.hasRewritten, *want.hasRewritten) << c.name << " event " << i;
    }
    if (want.rewritten) {
      EXPECT_EQ(e.rewritten, *want.rewritten) << c.name << " event " << i;
    }
    if (want.expectDst) {
      EXPECT_EQ(e.expect.dst, *want.expectDst) << c.name << " event " << i;
    }
    if (want.natTo) {
      EXPECT_EQ(e.expect.natTo, *want.natTo) << c.name << " event " << i;
    }
    if (want.namesParseError) {
      EXPECT_NE(e.parseError, ParseError::None) << c.name << " event " << i;
    }
  }
  for (const auto& [counter, value] : c.counters) {
    EXPECT_EQ(h.engine().counter(counter), value) << c.name << " counter " << counterName(counter);
  }
  if (c.deliveredC2S) {
    EXPECT_EQ(h.delivered(Dir::C2S), *c.deliveredC2S) << c.name;
  }
  if (c.deliveredS2C) {
    EXPECT_EQ(h.delivered(Dir::S2C), *c.deliveredS2C) << c.name;
  }
  for (const Dir d : c.acksMappedBack) {
    EXPECT_EQ(h.lastAckTo(d), h.sndNext(d))
        << c.name << (d == Dir::C2S ? " to the client" : " to the server");
  }
  if (c.streamClean) {
    EXPECT_EQ(h.badChecksums, 0u) << c.name;
    EXPECT_EQ(h.inconsistentOverlaps, 0u) << c.name;
  }
}

const std::string kPort = "PORT 198,18,0,2,195,80\r\n";
const std::string kPasv227 = "227 Entering Passive Mode (198,19,0,2,156,64)\r\n";

INSTANTIATE_TEST_SUITE_P(
    Engine, EngineExchange,
    ::testing::Values(
        ExchangeCase{.name = "PortRewrittenForSnatAndAcksMappedBack",
                     .nat = NatSide::SnatClient,
                     .natAddress = "198.51.100.7",
                     .sends = {{Dir::S2C, "220 ready\r\n"},
                               {Dir::C2S, kPort},
                               {Dir::S2C, "200 PORT ok\r\n"},
                               {Dir::C2S, "RETR a\r\n"}},
                     .events = {{.verdict = Verdict::Admit,
                                 .reason = Reason::Rewritten,
                                 .hasRewritten = true,
                                 .rewritten = endpoint("198.51.100.7:50000"),
                                 .expectDst = endpoint("198.51.100.7:50000"),
                                 .natTo = endpoint("198.18.0.2:50000")}},
                     .counters = {{Counter::Rewrites, 1}},
                     .deliveredC2S = "PORT 198,51,100,7,195,80\r\nRETR a\r\n",
                     // The server acknowledged the longer stream; the client sees its own numbers.
                     .acksMappedBack = {Dir::C2S},
                     .streamClean = true},
        ExchangeCase{
            .name = "Epsv229OtherDelimiterAndDnat",
            .nat = NatSide::DnatServer,
            .natAddress = "10.0.0.9",
            .sends = {{Dir::S2C, "220 ready\r\n"},
                      {Dir::C2S, "EPSV\r\n"},
                      {Dir::S2C, "229 Entering Extended Passive Mode (!!!40001!)\r\n"}},
            .events = {{.kind = EventKind::Epsv229,
                        .verdict = Verdict::Admit,
                        .announced = endpoint("10.0.0.9:40001"),
                        .expectDst = endpoint("198.19.0.2:40001"),
                        .natTo = endpoint("10.0.0.9:40001")}},
            .deliveredS2C = "220 ready\r\n229 Entering Extended Passive Mode (!!!40001!)\r\n"},
        ExchangeCase{
            .name = "PipelinedCommandsInOneSegment",
            .nat = NatSide::SnatClient,
            .natAddress = "198.51.100.7",
            .sends = {{Dir::C2S,
                       "NOOP\r\nPORT 198,18,0,2,195,80\r\nPASV\r\nport 198,18,0,2,195,81\r\n"}},
            .events = {{.announcedPort = 50000}, {.announcedPort = 50001}},
            .deliveredC2S =
                "NOOP\r\nPORT 198,51,100,7,195,80\r\nPASV\r\nport 198,51,100,7,195,81\r\n"},
        ExchangeCase{.name = "EprtRewrittenForNat66",
                     .options = {.v6 = true},
                     .nat = NatSide::SnatClient,
                     .natAddress = "2001:db8:ffff::7",
                     .sends = {{Dir::C2S, "EPRT |2|2001:db8:1::2|50000|\r\nNOOP\r\n"}},
                     .events = {{.rewritten = endpoint("[2001:db8:ffff::7]:50000")}},
                     .deliveredC2S = "EPRT |2|2001:db8:ffff::7|50000|\r\nNOOP\r\n",
                     .acksMappedBack = {Dir::C2S}},
        ExchangeCase{.name = "EarlySplicedAddressStaysRewrittenWhenThePortIsRefused",
                     .nat = NatSide::SnatClient,
                     .natAddress = "198.51.100.7",
                     .sends = {{Dir::C2S, "PORT 198,18,0,2,0,21\r\n", {16, 100}}},
                     .events = {{.verdict = Verdict::Refuse,
                                 .reason = Reason::LowPort,
                                 .hasExpect = false,
                                 .hasRewritten = true}},
                     .deliveredC2S = "PORT 198,51,100,7,0,21\r\n"},
        ExchangeCase{.name = "SequenceWrapInsideCommand",
                     .options = {.clientIsn = 0xFFFFFFF0u},
                     .nat = NatSide::SnatClient,
                     .natAddress = "198.51.100.7",
                     .sends = {{Dir::C2S, "NOOP\r\nPORT 198,18,0,2,195,80\r\nNOOP\r\n", {3, 7, 5}}},
                     .events = {{}},
                     .deliveredC2S = "NOOP\r\nPORT 198,51,100,7,195,80\r\nNOOP\r\n",
                     .acksMappedBack = {Dir::C2S}},
        ExchangeCase{
            .name = "MultiLine227",
            .sends = {{Dir::S2C, "220 ready\r\n"},
                      {Dir::C2S, "PASV\r\n"},
                      {Dir::S2C,
                       "227-Entering Passive Mode\r\n 198,19,0,2,156,64\r\n227 done\r\n"}},
            .events = {{.verdict = Verdict::Admit, .announced = endpoint("198.19.0.2:40000")}}},
        ExchangeCase{.name = "LowercaseVerbs",
                     .options = {.v6 = true},
                     .sends = {{Dir::C2S, "eprt |2|2001:db8:1::2|50000|\r\n"}},
                     .events = {{.kind = EventKind::Eprt, .verdict = Verdict::Admit}}},
        ExchangeCase{.name = "EprtFamilyMismatchRefused",
                     .options = {.v6 = true},
                     .sends = {{Dir::C2S, "EPRT |1|198.18.0.2|50000|\r\n"}},
                     .events = {{.verdict = Verdict::Refuse,
                                 .reason = Reason::FamilyMismatch,
                                 .hasExpect = false}}},
        ExchangeCase{.name = "Pasv227FromClientRefused",
                     .sends = {{Dir::C2S, "227 Entering Passive Mode (198,18,0,2,156,64)\r\n"}},
                     .events = {{.kind = EventKind::Pasv227,
                                 .verdict = Verdict::Refuse,
                                 .reason = Reason::WrongDirection}},
                     .counters = {{Counter::Admitted, 0}}},
        ExchangeCase{.name = "PortFromServerRefused",
                     .sends = {{Dir::S2C, "PORT 198,19,0,2,195,80\r\n"}},
                     .events = {{.kind = EventKind::Port,
                                 .verdict = Verdict::Refuse,
                                 .reason = Reason::WrongDirection}}},
        ExchangeCase{
            .name = "Pasv227WithoutPasvIsUnsolicited",
            .sends = {{Dir::S2C, "220 ready\r\n"}, {Dir::C2S, "NOOP\r\n"}, {Dir::S2C, kPasv227}},
            .events = {{.verdict = Verdict::Refuse, .reason = Reason::Unsolicited}}},
        ExchangeCase{.name = "BounceRefusedByDefault",
                     .sends = {{Dir::C2S, "PORT 198,18,0,99,195,80\r\n"}},
                     .events = {{.verdict = Verdict::Refuse, .reason = Reason::BounceAddress}},
                     .deliveredC2S = "PORT 198,18,0,99,195,80\r\n"},
        ExchangeCase{.name = "BounceAdmittedWhenAllowed",
                     .config = {.allowBounce = true},
                     .sends = {{Dir::C2S, "PORT 198,18,0,99,195,80\r\n"}},
                     .events = {{.verdict = Verdict::Admit}}},
        ExchangeCase{.name = "LowDataPortRefusedByDefault",
                     .sends = {{Dir::C2S, "PORT 198,18,0,2,0,22\r\n"}},
                     .events = {{.reason = Reason::LowPort}}},
        ExchangeCase{.name = "MalformedPortIsRefusedAndCounted",
                     .sends = {{Dir::C2S, "PORT 198,18,0,256,195,80\r\nPORT 198,18,0,2,+1,80\r\n"}},
                     .events = {{.verdict = Verdict::Refuse,
                                 .reason = Reason::ParseFailed,
                                 .namesParseError = true},
                                {.verdict = Verdict::Refuse,
                                 .reason = Reason::ParseFailed,
                                 .namesParseError = true}}},
        ExchangeCase{.name = "NonAnnouncingPrefixIsNotHeld",
                     .sends = {{Dir::C2S, "RETR file\r\n", {3}}},
                     .events = {},
                     .counters = {{Counter::HeldSegments, 0}},
                     .deliveredC2S = "RETR file\r\n"},
        ExchangeCase{.name = "AuthTlsMakesTheChannelOpaque",
                     .sends = {{Dir::S2C, "220 ready\r\n"},
                               {Dir::C2S, "AUTH TLS\r\n"},
                               {Dir::S2C, "234 go ahead\r\n"},
                               {Dir::C2S, kPort}},
                     .events = {{.kind = EventKind::AuthTls, .reason = Reason::TlsOpaque}},
                     .counters = {{Counter::TlsSessions, 1}}},
        ExchangeCase{.name = "AuthTlsRefusedKeepsInspecting",
                     .sends = {{Dir::S2C, "220 ready\r\n"},
                               {Dir::C2S, "AUTH TLS\r\n"},
                               {Dir::S2C, "504 not here\r\n"},
                               {Dir::C2S, kPort}},
                     .events = {{.kind = EventKind::Port}}},
        ExchangeCase{.name = "LineLongerThanBufferIsReportedAndStreamRecovers",
                     .sends = {{Dir::C2S, "PORT " + std::string(700, '1') + "\r\n", {100}},
                               {Dir::C2S, kPort}},
                     .events = {{.kind = EventKind::Malformed, .reason = Reason::LineTooLong},
                                {.verdict = Verdict::Admit}},
                     .counters = {{Counter::LineTooLong, 1}}},
        ExchangeCase{.name = "BareCrInAnnouncementIsMalformed",
                     .sends = {{Dir::C2S, "PORT 198,18,0,2,\r195,80\r\n"}},
                     .events = {{.kind = EventKind::Malformed, .verdict = Verdict::Refuse}}},
        ExchangeCase{
            .name = "TooManyOutstandingExpectations",
            .config = {.maxExpectationsPerSession = 3},
            .sends = {{Dir::C2S, "PORT 198,18,0,2,195,80\r\n"},
                      {Dir::C2S, "PORT 198,18,0,2,195,81\r\n"},
                      {Dir::C2S, "PORT 198,18,0,2,195,82\r\n"},
                      {Dir::C2S, "PORT 198,18,0,2,195,83\r\n"}},
            .events = {{},
                       {},
                       {.verdict = Verdict::Admit},
                       {.verdict = Verdict::Refuse, .reason = Reason::TooManyExpectations}}},
        ExchangeCase{.name = "EpsvAllRefusesLaterPort",
                     .sends = {{Dir::C2S, "EPSV ALL\r\n" + kPort}},
                     .events = {{.kind = EventKind::EpsvAll}, {.reason = Reason::EpsvAllActive}}},
        ExchangeCase{.name = "LongFormsRefusedByDefault",
                     .sends = {{Dir::C2S, "LPRT 4,4,198,18,0,2,2,195,80\r\n"}},
                     .events = {{.kind = EventKind::Lprt, .reason = Reason::PolicyDisabled}}},
        ExchangeCase{.name = "LongFormsAdmittedWhenAllowed",
                     .config = {.allowLongForms = true},
                     .sends = {{Dir::C2S, "LPRT 4,4,198,18,0,2,2,195,80\r\n"}},
                     .events = {{.verdict = Verdict::Admit}}},
        ExchangeCase{.name = "MidstreamReplyIsUnsolicited",
                     .handshake = false,
                     .sends = {{Dir::S2C, kPasv227}},
                     .events = {{.reason = Reason::Unsolicited}},
                     .counters = {{Counter::MidstreamPickup, 1}}},
        ExchangeCase{.name = "MidstreamPairingIsRelearntFromTheNextPassiveExchange",
                     .handshake = false,
                     .sends = {{Dir::S2C, "200 ok\r\n"},
                               {Dir::C2S, "TYPE I\r\nPASV\r\n"},
                               {Dir::S2C, "200 type\r\n" + kPasv227},
                               {Dir::C2S, "NOOP\r\n"},
                               {Dir::S2C, "200 noop\r\n"},
                               {Dir::C2S, "PASV\r\n"},
                               {Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,65)\r\n"}},
                     .events = {{.verdict = Verdict::Admit}, {.verdict = Verdict::Admit}}}),
    [](const ::testing::TestParamInfo<ExchangeCase>& p) { return std::string(p.param.name); });

// --- 227 through destination NAT, in each way servers write the numbers -----------------------

struct Pasv227Form {
  const char* name;
  std::string reply;
};

void PrintTo(const Pasv227Form& f, std::ostream* os) { *os << f.name; }

class EnginePasv227Dnat : public ::testing::TestWithParam<Pasv227Form> {};

TEST_P(EnginePasv227Dnat, RewrittenWithAndWithoutParentheses) {
  const std::string& reply = GetParam().reply;
  EngineHarness h(defaultConfig());
  h.setNat(dnatBinding(h, "10.0.0.9"));
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, reply);
  ASSERT_EQ(h.events.size(), 1u) << reply;
  EXPECT_EQ(h.events[0].kind, EventKind::Pasv227) << reply;
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit) << reply;
  EXPECT_EQ(h.events[0].announced, endpoint("10.0.0.9:40000")) << reply;
  EXPECT_EQ(h.events[0].rewritten, endpoint("198.19.0.2:40000")) << reply;
  EXPECT_EQ(h.events[0].expect.src.addr, h.client().addr) << reply;
  EXPECT_EQ(h.events[0].expect.natTo, endpoint("10.0.0.9:40000")) << reply;
  std::string want = reply;
  want.replace(want.find("10,0,0,9"), 8, "198,19,0,2");
  EXPECT_EQ(h.delivered(Dir::S2C), "220 ready\r\n" + want) << reply;
  EXPECT_EQ(h.lastAckTo(Dir::S2C), h.sndNext(Dir::S2C)) << reply;
}

INSTANTIATE_TEST_SUITE_P(
    Engine, EnginePasv227Dnat,
    ::testing::Values(Pasv227Form{"Parenthesised",
                                  "227 Entering Passive Mode (10,0,0,9,156,64).\r\n"},
                      Pasv227Form{"Bare", "227 Entering Passive Mode 10,0,0,9,156,64\r\n"},
                      Pasv227Form{"AfterEqualsSign", "227 ok =10,0,0,9,156,64 here\r\n"}),
    [](const ::testing::TestParamInfo<Pasv227Form>& p) { return std::string(p.param.name); });

// --- split everywhere ------------------------------------------------------------------------

struct Msg {
  Dir dir;
  std::string text;
};

std::vector<Msg> conversation() {
  return {
      {Dir::S2C, "220-Welcome\r\n220 ready\r\n"},
      {Dir::C2S, "USER anonymous\r\n"},
      {Dir::S2C, "331 pass\r\n"},
      {Dir::C2S, "PASS x\r\n"},
      {Dir::S2C, "230 ok\r\n"},
      {Dir::C2S, "PORT 198,18,0,2,195,80\r\n"},
      {Dir::S2C, "200 PORT ok\r\n"},
      {Dir::C2S, "PASV\r\n"},
      {Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64).\r\n"},
      {Dir::C2S, "EPSV\r\nEPRT |1|198.18.0.2|50001|\r\n"},
      {Dir::S2C, "229 Entering Extended Passive Mode (|||40001|)\r\n200 ok\r\n"},
      {Dir::C2S, "QUIT\r\n"},
      {Dir::S2C, "221 bye\r\n"},
  };
}

struct RunResult {
  std::string c2s;
  std::string s2c;
  std::vector<std::string> events;
  size_t bad = 0;
};

RunResult runConversation(size_t splitMsg, size_t cut, bool oneByte) {
  EngineHarness h(EngineConfig{});
  NatBinding b = snatBinding(h, "198.51.100.7");
  b.serverOutside = ipFromText("10.0.0.9");  // and the server behind destination NAT
  h.setNat(b);
  h.handshake();
  const auto conv = conversation();
  for (size_t i = 0; i < conv.size(); ++i) {
    if (oneByte) {
      h.send(conv[i].dir, conv[i].text, {1});
    } else if (i == splitMsg && cut > 0 && cut < conv[i].text.size()) {
      h.send(conv[i].dir, conv[i].text, {cut, conv[i].text.size()});
    } else {
      h.send(conv[i].dir, conv[i].text);
    }
  }
  RunResult r;
  r.c2s = h.delivered(Dir::C2S);
  r.s2c = h.delivered(Dir::S2C);
  for (const Event& e : h.events) {
    r.events.push_back(std::string(eventKindName(e.kind)) + "/" +
                       std::string(verdictName(e.verdict)) + "/" +
                       std::string(reasonName(e.reason)) + "/" + std::to_string(e.announced.port));
  }
  r.bad = h.badChecksums + h.inconsistentOverlaps + h.heldNow();
  if (h.lastAckTo(Dir::C2S) != h.sndNext(Dir::C2S)) r.bad += 100;
  if (h.lastAckTo(Dir::S2C) != h.sndNext(Dir::S2C)) r.bad += 1000;
  return r;
}

TEST(EngineProperty, SplitEverywhereGivesIdenticalEventsAndStreams) {
  const RunResult base = runConversation(SIZE_MAX, 0, false);
  ASSERT_EQ(base.events.size(), 4u);
  EXPECT_EQ(base.bad, 0u);
  EXPECT_NE(base.c2s.find("PORT 198,51,100,7,195,80"), std::string::npos);
  EXPECT_NE(base.s2c.find("(198,19,0,2,156,64)"), std::string::npos);
  const auto conv = conversation();
  for (size_t m = 0; m < conv.size(); ++m) {
    for (size_t cut = 1; cut < conv[m].text.size(); ++cut) {
      const RunResult r = runConversation(m, cut, false);
      ASSERT_EQ(r.c2s, base.c2s) << "message " << m << " cut " << cut;
      ASSERT_EQ(r.s2c, base.s2c) << "message " << m << " cut " << cut;
      ASSERT_EQ(r.events, base.events) << "message " << m << " cut " << cut;
      ASSERT_EQ(r.bad, 0u) << "message " << m << " cut " << cut;
    }
  }
  const RunResult bytes = runConversation(SIZE_MAX, 0, true);
  EXPECT_EQ(bytes.c2s, base.c2s);
  EXPECT_EQ(bytes.s2c, base.s2c);
  EXPECT_EQ(bytes.events, base.events);
  EXPECT_EQ(bytes.bad, 0u);
}

// Expectation mode: the kernel's seqadj shifts sequence numbers, so the engine must keep every
// packet's own numbers and byte range and only replace payloads; the payloads, in order, are
// the rewritten stream.
TEST(EngineKernelSeqAdjust, PacketsKeepTheirNumbersAndPayloadsFormTheRewrittenStream) {
  EngineConfig cfg;
  cfg.kernelSeqAdjust = true;
  StaticNat nat;
  const Endpoint c = endpoint("198.18.0.2:40000");
  const Endpoint sv = endpoint("198.19.0.2:21");
  nat.enabled = true;
  nat.binding = NatBinding{c.addr, ipFromText("198.51.100.7"), sv.addr, sv.addr};
  Engine engine(cfg, &nat);
  uint64_t handle = 0;
  std::map<uint64_t, uint32_t> seqOf;
  std::map<uint64_t, std::string> payloadOf;
  std::map<uint32_t, std::string> out;  // original seq -> payload sent
  auto feed = [&](std::vector<uint8_t> pkt) {
    const PacketParse pp = parsePacket(pkt);
    seqOf[++handle] = pp.view.seq;
    payloadOf[handle] = std::string(pp.view.payload.begin(), pp.view.payload.end());
    Actions acts;
    engine.onSegment(Segment{&pp.view, handle}, handle, acts);
    for (size_t i = 0; i < acts.packetCount; ++i) {
      const PacketAction& a = acts.packets[i];
      ASSERT_NE(a.verdict, PacketVerdict::Drop);
      if (a.verdict == PacketVerdict::Rewrite) {
        EXPECT_EQ(a.seq, seqOf[a.handle]);
        EXPECT_EQ(a.ack, 501u);
        out[a.seq] = std::string(a.payload.begin(), a.payload.end());
      } else if (a.verdict == PacketVerdict::Accept) {
        out[seqOf[a.handle]] = payloadOf[a.handle];
      }
    }
  };
  feed(PacketBuilder().v4(c, sv).seq(100).flags(TcpSyn).build());
  feed(PacketBuilder().v4(sv, c).seq(500).ack(101).flags(TcpSyn | TcpAck).build());
  const std::string line = "NOOP\r\nPORT 198,18,0,2,195,80\r\nNOOP\r\n";
  for (size_t i = 0; i < line.size(); ++i) {
    feed(PacketBuilder()
             .v4(c, sv)
             .seq(101 + static_cast<uint32_t>(i))
             .ack(501)
             .payload(line.substr(i, 1))
             .build());
  }
  std::string joined;
  for (const auto& [seq, p] : out) joined += p;
  EXPECT_EQ(joined.substr(joined.find("PORT")), "PORT 198,51,100,7,195,80\r\nNOOP\r\n");
}

// A session picked up mid-stream whose streams a predecessor already rewrote (expectation mode
// after a restart: the kernel's seqadj holds the shift): NatBinding::priorDelta starts each
// direction's delta there, so the peer's acknowledgements, which count the rewritten stream,
// map back onto original bytes and trim the flight buffer.
struct PickupRun {
  size_t drops = 0;
  uint64_t overflows = 0;
  uint64_t pickups = 0;
};

// Picks a DNATed session up mid-stream (no SYN) and runs `rounds` NOOP exchanges; the client
// acknowledges the server's bytes `shift` ahead, as a client whose 227 grew by `shift` bytes
// before the restart does. The server's replies add up to more than maxInFlight.
PickupRun pickUp(int32_t shift, std::array<int32_t, 2> priorDelta, int rounds) {
  EngineConfig cfg;
  cfg.kernelSeqAdjust = true;
  StaticNat nat;
  const Endpoint c = endpoint("198.18.1.2:40000");
  const Endpoint pub = endpoint("198.18.1.10:21");
  nat.enabled = true;
  nat.binding = NatBinding{c.addr, c.addr, pub.addr, ipFromText("198.19.1.2")};
  nat.binding.priorDelta = priorDelta;
  Engine engine(cfg, &nat);
  PickupRun run;
  uint64_t handle = 0;
  auto feed = [&](const std::vector<uint8_t>& pkt) {
    const PacketParse pp = parsePacket(pkt);
    Actions acts;
    ++handle;
    engine.onSegment(Segment{&pp.view, handle}, handle, acts);
    for (size_t i = 0; i < acts.packetCount; ++i) {
      if (acts.packets[i].verdict == PacketVerdict::Drop) ++run.drops;
    }
  };
  uint32_t cseq = 7000;
  uint32_t sseq = 90000;
  const std::string reply = "200 NOOP ok, padding the reply to forty\r\n";
  for (int i = 0; i < rounds; ++i) {
    feed(PacketBuilder()
             .v4(c, pub)
             .seq(cseq)
             .ack(sseq + static_cast<uint32_t>(shift))
             .flags(TcpAck | TcpPsh)
             .payload("NOOP\r\n")
             .build());
    cseq += 6;
    feed(PacketBuilder()
             .v4(pub, c)
             .seq(sseq)
             .ack(cseq)
             .flags(TcpAck | TcpPsh)
             .payload(reply)
             .build());
    sseq += static_cast<uint32_t>(reply.size());
  }
  run.overflows = engine.counter(Counter::BufferOverflow);
  run.pickups = engine.counter(Counter::MidstreamPickup);
  return run;
}

constexpr int kRounds = 200;  // 8 KB of replies: twice maxInFlight

TEST(EnginePriorDelta, AcknowledgementsOfAShiftedStreamTrimTheFlight) {
  const PickupRun run = pickUp(1, {0, 1}, kRounds);
  EXPECT_EQ(run.pickups, 1u);
  EXPECT_EQ(run.drops, 0u);
  EXPECT_EQ(run.overflows, 0u);
}

TEST(EnginePriorDelta, AShrunkStreamTrimsToo) {
  const PickupRun run = pickUp(-3, {0, -3}, kRounds);
  EXPECT_EQ(run.drops, 0u);
  EXPECT_EQ(run.overflows, 0u);
}

// The failure the delta prevents: acknowledgements beyond what the engine thinks was sent are
// ignored, the flight never shrinks, and once maxInFlight bytes are unacknowledged every new
// reply is dropped (the session stalls for good).
TEST(EnginePriorDelta, WithoutTheDeltaTheFlightFillsAndRepliesAreDropped) {
  const PickupRun run = pickUp(1, {0, 0}, kRounds);
  EXPECT_GT(run.drops, 0u);
  EXPECT_GT(run.overflows, 0u);
}

// A session seen from its SYN has no predecessor: the binding's delta is not applied (if it
// were, -50 would make the client's correct acknowledgements look like acknowledgements of
// bytes never sent, and the flight would fill).
TEST(EnginePriorDelta, IgnoredForASessionSeenFromItsSyn) {
  EngineConfig cfg;
  cfg.kernelSeqAdjust = true;
  EngineHarness h(cfg);
  NatBinding b{h.client().addr, h.client().addr, h.server().addr, h.server().addr};
  b.priorDelta = {-50, -50};
  h.setNat(b);
  h.handshake();
  h.send(Dir::S2C, "220 hello\r\n");
  h.send(Dir::C2S, "USER anonymous\r\n");
  std::string replies;
  for (int i = 0; i < kRounds; ++i) {
    h.send(Dir::C2S, "NOOP\r\n");
    h.send(Dir::S2C, "200 NOOP ok, padding the reply to forty\r\n");
    replies += "200 NOOP ok, padding the reply to forty\r\n";
  }
  EXPECT_EQ(h.delivered(Dir::S2C), "220 hello\r\n" + replies);
  EXPECT_EQ(h.engine().counter(Counter::MidstreamPickup), 0u);
  EXPECT_EQ(h.engine().counter(Counter::BufferOverflow), 0u);
  EXPECT_EQ(h.drops, 0u);
}

}  // namespace
}  // namespace ftpalg::test
