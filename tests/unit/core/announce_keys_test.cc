// Data keys of admitted announcements (src/core/announce_keys.cc, data_keys.cc): a PORT the
// server refuses, or a session that ends, withdraws what it opened; two clients behind one
// SNAT address announcing the same port get different public ports.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

// Every client is behind SNAT: its private address leaves as 198.51.100.7.
class SnatEveryone : public NatResolver {
 public:
  bool resolve(const FlowKey& flow, NatBinding& out) override {
    out = NatBinding{flow.client.addr, ipFromText("198.51.100.7"), flow.server.addr,
                     flow.server.addr};
    return true;
  }
};

// One control connection; next seq of the client (C2S) and the server (S2C).
struct Conn {
  Endpoint client;
  Endpoint server;
  uint32_t seq[2] = {1000, 5000};
};

// Hand-built segments of several connections through one engine; keeps events and the payload
// of every rewritten packet.
class Driver {
 public:
  explicit Driver(const EngineConfig& cfg) : engine(cfg, &nat), out(std::make_unique<Actions>()) {}

  void send(const Conn& c, Dir d, uint8_t flags, std::string_view payload) {
    const bool c2s = d == Dir::C2S;
    const auto pkt = PacketBuilder()
                         .v4(c2s ? c.client : c.server, c2s ? c.server : c.client)
                         .seq(c.seq[c2s ? 0 : 1])
                         .ack(c.seq[c2s ? 1 : 0])
                         .flags(flags)
                         .payload(payload)
                         .build();
    const PacketParse pp = parsePacket(pkt);
    ASSERT_EQ(pp.error, PacketError::None);
    out->clear();
    engine.onSegment(Segment{&pp.view, ++handle_}, now, *out);
    take();
  }
  void handshake(Conn& c) {
    send(c, Dir::C2S, TcpSyn, "");
    ++c.seq[0];
    send(c, Dir::S2C, TcpSyn | TcpAck, "");
    ++c.seq[1];
    send(c, Dir::C2S, TcpAck, "");
  }
  void say(Conn& c, Dir d, std::string_view text) {
    send(c, d, TcpAck | TcpPsh, text);
    c.seq[d == Dir::C2S ? 0 : 1] += static_cast<uint32_t>(text.size());
  }
  // Handshake, greeting and login.
  void login(Conn& c) {
    handshake(c);
    say(c, Dir::S2C, "220 hi\r\n");
    say(c, Dir::C2S, "USER u\r\n");
    say(c, Dir::S2C, "331 pw\r\n");
    say(c, Dir::C2S, "PASS p\r\n");
    say(c, Dir::S2C, "230 in\r\n");
  }
  void expire() {
    bool more = true;
    while (more) {
      out->clear();
      more = engine.expire(now, *out);
      take();
    }
  }
  [[nodiscard]] std::vector<Event> of(EventKind k) const {
    std::vector<Event> r;
    for (const Event& e : events) {
      if (e.kind == k) r.push_back(e);
    }
    return r;
  }

  SnatEveryone nat;
  Engine engine;
  std::unique_ptr<Actions> out;
  std::vector<Event> events;
  std::vector<std::string> rewrittenPayloads;
  uint64_t now = 1'000'000'000'000;

 private:
  void take() {
    for (size_t i = 0; i < out->packetCount; ++i) {
      const PacketAction& a = out->packets[i];
      if (a.verdict == PacketVerdict::Rewrite) {
        rewrittenPayloads.emplace_back(reinterpret_cast<const char*>(a.payload.data()),
                                       a.payload.size());
      }
    }
    for (size_t i = 0; i < out->eventCount; ++i) events.push_back(out->events[i]);
  }
  uint64_t handle_ = 0;
};

EngineConfig withdrawing() {
  EngineConfig cfg;
  cfg.requireLogin = true;
  cfg.withdrawAnnouncements = true;
  return cfg;
}

Conn conn(const char* client) { return Conn{endpoint(client), endpoint("198.19.0.2:21")}; }

// The PORT's admit and the withdraw carry the same expectation.
void expectSameExpectation(const Expectation& a, const Expectation& b) {
  EXPECT_EQ(a.src, b.src);
  EXPECT_EQ(a.dst, b.dst);
  EXPECT_EQ(a.natTo, b.natTo);
  EXPECT_EQ(a.hasSrcNat, b.hasSrcNat);
}

class RefusedReply : public ::testing::TestWithParam<const char*> {};

TEST_P(RefusedReply, WithdrawsTheAdmittedPort) {
  Driver d(withdrawing());
  Conn c = conn("10.1.0.2:40000");
  d.login(c);
  d.say(c, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  ASSERT_EQ(d.of(EventKind::Port).size(), 1u);
  const Event port = d.of(EventKind::Port)[0];
  ASSERT_EQ(port.verdict, Verdict::Admit);
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());
  d.say(c, Dir::S2C, GetParam());
  const std::vector<Event> w = d.of(EventKind::Withdraw);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reason, Reason::ServerRefused);
  EXPECT_EQ(w[0].verdict, Verdict::Pass);
  ASSERT_TRUE(w[0].hasExpect);
  expectSameExpectation(w[0].expect, port.expect);
  EXPECT_EQ(d.engine.counter(Counter::Withdrawn), 1u);
}

INSTANTIATE_TEST_SUITE_P(NonSuccess, RefusedReply,
                         ::testing::Values("530 Please login\r\n", "500 PORT not allowed\r\n",
                                           "421 Service not available\r\n",
                                           "501-no\r\n501 really not\r\n"));

TEST(AnnounceKeys, SuccessfulReplyKeepsItUntilTheSessionEnds) {
  Driver d(withdrawing());
  Conn c = conn("10.1.0.2:40000");
  d.login(c);
  d.say(c, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(c, Dir::S2C, "200 PORT ok\r\n");
  d.say(c, Dir::C2S, "RETR f\r\n");
  d.say(c, Dir::S2C, "550 no such file\r\n");  // answers RETR, not the PORT
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());
  d.send(c, Dir::C2S, TcpRst | TcpAck, "");
  const std::vector<Event> w = d.of(EventKind::Withdraw);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].reason, Reason::SessionEnded);
  expectSameExpectation(w[0].expect, d.of(EventKind::Port)[0].expect);
}

TEST(AnnounceKeys, BothFinsWithdrawAtOnce) {
  Driver d(withdrawing());
  Conn c = conn("10.1.0.2:40000");
  d.login(c);
  d.say(c, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(c, Dir::S2C, "200 PORT ok\r\n");
  d.send(c, Dir::C2S, TcpFin | TcpAck, "");
  ++c.seq[0];
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());  // half closed: the server may still answer
  d.send(c, Dir::S2C, TcpFin | TcpAck, "");
  ASSERT_EQ(d.of(EventKind::Withdraw).size(), 1u);
  EXPECT_EQ(d.of(EventKind::Withdraw)[0].reason, Reason::SessionEnded);
}

TEST(AnnounceKeys, PipelinedCommandsPairTheirReplies) {
  Driver d(withdrawing());
  Conn c = conn("10.1.0.2:40000");
  d.login(c);
  // PORT a, PORT b, RETR in one segment; the server takes a, refuses b.
  d.say(c, Dir::C2S, "PORT 10,1,0,2,156,64\r\nPORT 10,1,0,2,156,65\r\nRETR f\r\n");
  d.say(c, Dir::S2C, "200 ok\r\n500 no\r\n150 go\r\n");
  const std::vector<Event> w = d.of(EventKind::Withdraw);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].expect.natTo.port, 40001);
}

TEST(AnnounceKeys, ExpiredSessionsWithdrawToo) {
  EngineConfig cfg = withdrawing();
  cfg.idleTimeoutNs = 60'000'000'000;
  cfg.expectTimeoutNs = 120'000'000'000;
  Driver e(cfg);
  Conn c = conn("10.1.0.3:40000");
  e.login(c);
  e.say(c, Dir::C2S, "PORT 10,1,0,3,156,64\r\n");
  e.now += 61'000'000'000;
  e.expire();
  ASSERT_EQ(e.of(EventKind::Withdraw).size(), 1u);
  EXPECT_EQ(e.of(EventKind::Withdraw)[0].reason, Reason::SessionEnded);
}

TEST(AnnounceKeys, PassiveAnnouncementsAreWithdrawnOnlyAtSessionEnd) {
  Driver d(withdrawing());
  Conn c = conn("10.1.0.2:40000");
  d.login(c);
  d.say(c, Dir::C2S, "PASV\r\n");
  d.say(c, Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  d.say(c, Dir::C2S, "RETR f\r\n");
  d.say(c, Dir::S2C, "550 no\r\n");
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());
  d.send(c, Dir::S2C, TcpRst | TcpAck, "");
  EXPECT_EQ(d.of(EventKind::Withdraw).size(), 1u);
}

TEST(AnnounceKeys, OffByDefault) {
  EngineConfig cfg;
  cfg.requireLogin = true;
  Driver d(cfg);
  Conn c = conn("10.1.0.2:40000");
  d.login(c);
  d.say(c, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(c, Dir::S2C, "530 no\r\n");
  d.send(c, Dir::C2S, TcpRst | TcpAck, "");
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());
  EXPECT_EQ(d.engine.counter(Counter::Withdrawn), 0u);
}

TEST(AnnounceKeys, NothingActsBeforeLogin) {
  Driver d(withdrawing());
  Conn c = conn("10.1.0.2:40000");
  d.handshake(c);
  d.say(c, Dir::S2C, "220 hi\r\n");
  d.say(c, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(c, Dir::S2C, "530 Please login with USER and PASS\r\n");
  ASSERT_EQ(d.of(EventKind::Port).size(), 1u);
  EXPECT_EQ(d.of(EventKind::Port)[0].verdict, Verdict::Refuse);
  EXPECT_EQ(d.of(EventKind::Port)[0].reason, Reason::BeforeLogin);
  EXPECT_FALSE(d.of(EventKind::Port)[0].hasExpect);
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());  // nothing was opened
}

// Two clients behind 198.51.100.7 announce port 40000 to the same server: the second leaves
// as 40001 (nf_nat_ftp's way), its NAT target keeps 40000.
TEST(AnnounceKeys, SamePortBehindOneSnatAddressMovesToTheNextFreePort) {
  Driver d(withdrawing());
  Conn a = conn("10.1.0.2:40100");
  Conn b = conn("10.1.0.3:40200");
  d.login(a);
  d.login(b);
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(b, Dir::C2S, "PORT 10,1,0,3,156,64\r\n");
  const std::vector<Event> p = d.of(EventKind::Port);
  ASSERT_EQ(p.size(), 2u);
  ASSERT_EQ(p[0].verdict, Verdict::Admit);
  ASSERT_EQ(p[1].verdict, Verdict::Admit);
  EXPECT_EQ(p[0].expect.dst, endpoint("198.51.100.7:40000"));
  EXPECT_EQ(p[1].expect.dst, endpoint("198.51.100.7:40001"));
  EXPECT_EQ(p[1].expect.natTo, endpoint("10.1.0.3:40000"));
  EXPECT_EQ(p[1].rewritten, endpoint("198.51.100.7:40001"));
  EXPECT_EQ(d.engine.counter(Counter::PortReassigned), 1u);
  ASSERT_FALSE(d.rewrittenPayloads.empty());
  EXPECT_EQ(d.rewrittenPayloads.back(), "PORT 198,51,100,7,156,65\r\n");

  // Client a's PORT refused: its key is free again for the next announcement.
  d.say(a, Dir::S2C, "500 no\r\n");
  Conn c = conn("10.1.0.4:40300");
  d.login(c);
  d.say(c, Dir::C2S, "EPRT |1|10.1.0.4|40000|\r\n");
  EXPECT_EQ(d.of(EventKind::Eprt).at(0).expect.dst, endpoint("198.51.100.7:40000"));
  EXPECT_EQ(d.rewrittenPayloads.back(), "EPRT |1|198.51.100.7|40000|\r\n");
  EXPECT_EQ(d.engine.counter(Counter::PortReassigned), 1u);
}

TEST(AnnounceKeys, TheSameMappingAgainIsNotAClash) {
  Driver d(withdrawing());
  Conn a = conn("10.1.0.2:40100");
  d.login(a);
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(a, Dir::S2C, "200 ok\r\n");
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  const std::vector<Event> p = d.of(EventKind::Port);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].expect.dst, p[0].expect.dst);
  EXPECT_EQ(d.engine.counter(Counter::PortReassigned), 0u);
  // Refusing the second leaves the first one's kernel elements alone.
  d.say(a, Dir::S2C, "500 no\r\n");
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());
}

TEST(AnnounceKeys, NoFreePortAmongTheNext128IsRefused) {
  EngineConfig cfg = withdrawing();
  cfg.maxSessions = 256;
  Driver d(cfg);
  std::vector<Conn> conns;
  for (int i = 0; i < 129; ++i) {
    conns.push_back(Conn{Endpoint{IpAddr::v4(10, 2, static_cast<uint8_t>(i / 200),
                                             static_cast<uint8_t>(1 + i % 200)),
                                  40000},
                         endpoint("198.19.0.2:21")});
  }
  for (Conn& c : conns) d.login(c);
  // 128 announcements of ports 40000..40127 take the whole range the 129th may try.
  for (size_t i = 0; i < 128; ++i) {
    const IpAddr& a = conns[i].client.addr;
    const uint16_t port = static_cast<uint16_t>(40000 + i);
    d.say(conns[i], Dir::C2S,
          "PORT " + std::to_string(a.bytes[0]) + "," + std::to_string(a.bytes[1]) + "," +
              std::to_string(a.bytes[2]) + "," + std::to_string(a.bytes[3]) + "," +
              std::to_string(port >> 8) + "," + std::to_string(port & 0xff) + "\r\n");
  }
  EXPECT_EQ(d.engine.counter(Counter::PortReassigned), 0u);
  const IpAddr& a = conns[128].client.addr;
  d.say(conns[128], Dir::C2S, "PORT 10,2,0," + std::to_string(a.bytes[3]) + ",156,64\r\n");
  const Event last = d.of(EventKind::Port).back();
  EXPECT_EQ(last.verdict, Verdict::Refuse);
  EXPECT_EQ(last.reason, Reason::NoFreePort);
  EXPECT_EQ(d.engine.counter(Counter::NoFreePort), 1u);
}

TEST(AnnounceKeys, AFullTableRefuses) {
  EngineConfig cfg = withdrawing();
  cfg.maxDataKeys = 1;
  Driver d(cfg);
  Conn a = conn("10.1.0.2:40100");
  d.login(a);
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,65\r\n");
  const std::vector<Event> p = d.of(EventKind::Port);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].verdict, Verdict::Refuse);
  EXPECT_EQ(p[1].reason, Reason::DataKeysFull);
}

TEST(AnnounceKeys, AFullTableFirstFreesWhatExpiredInOtherSessions) {
  EngineConfig cfg = withdrawing();
  cfg.maxDataKeys = 1;
  Driver d(cfg);
  Conn a = conn("10.1.0.2:40100");
  Conn b = conn("10.1.0.3:40100");
  d.login(a);
  d.login(b);
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(a, Dir::S2C, "200 ok\r\n");
  d.now += cfg.expectTimeoutNs + 3'000'000'000;  // a's announcement is long over, a lives on
  d.say(b, Dir::C2S, "PORT 10,1,0,3,156,64\r\n");
  const std::vector<Event> p = d.of(EventKind::Port);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].verdict, Verdict::Admit);
  EXPECT_EQ(d.engine.counter(Counter::DataKeysFull), 0u);
}

TEST(AnnounceKeys, GatewayAddressesCanBeSetLater) {
  EngineConfig cfg = withdrawing();
  cfg.allowBounce = true;
  Driver d(cfg);
  std::array<IpAddr, 8> gw{};
  gw[0] = ipFromText("198.18.0.1");
  d.engine.setGatewayAddresses(gw);
  Conn a = conn("10.1.0.2:40100");
  d.login(a);
  d.say(a, Dir::C2S, "PORT 198,18,0,1,156,64\r\n");
  ASSERT_EQ(d.of(EventKind::Port).size(), 1u);
  EXPECT_EQ(d.of(EventKind::Port)[0].reason, Reason::SpecialAddress);
}

}  // namespace
}  // namespace ftpalg::test
