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
#include "tests/support/conn_driver.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

// The multi-connection driver with every client behind SNAT.
using Driver = SnatConnDriver;

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

// A session that repeats the same PORT supersedes its own earlier announcement (as the kernel
// replaces an expectation of the same master): one key and one expectation slot, never a clash
// with itself. No NAT here, so that nothing is rewritten (the driver's acks stay unshifted).
TEST(AnnounceKeys, RepeatingTheSamePortKeepsOneKey) {
  EngineConfig cfg = withdrawing();
  cfg.maxDataKeys = 8;  // repeats that each took a key would fill it after 8
  ConnDriver d(cfg);
  Conn a = conn("10.1.0.2:40100");
  d.login(a);
  for (int i = 0; i < 1000; ++i) {
    d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
    d.say(a, Dir::S2C, "200 ok\r\n");
  }
  const std::vector<Event> p = d.of(EventKind::Port);
  ASSERT_EQ(p.size(), 1000u);
  size_t admittedOnThePort = 0;
  for (const Event& e : p) {
    admittedOnThePort +=
        e.verdict == Verdict::Admit && e.expect.dst == endpoint("10.1.0.2:40000") ? 1u : 0u;
  }
  EXPECT_EQ(admittedOnThePort, 1000u);
  EXPECT_EQ(d.engine.counter(Counter::Admitted), 1000u);
  EXPECT_EQ(d.engine.counter(Counter::PortReassigned), 0u);
  EXPECT_EQ(d.engine.counter(Counter::NoFreePort), 0u);
  EXPECT_EQ(d.engine.counter(Counter::DataKeysFull), 0u);
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());
  // One key left: the session's end withdraws it once.
  d.send(a, Dir::C2S, TcpRst | TcpAck, "");
  EXPECT_EQ(d.of(EventKind::Withdraw).size(), 1u);
}

// Moved once because another session holds the port, the repeats keep the moved port (each
// is rewritten: 40 stay within the driver's unacknowledged rewrites).
TEST(AnnounceKeys, RepeatingAMovedPortKeepsTheMovedPort) {
  Driver d(withdrawing());
  Conn a = conn("10.1.0.2:40100");
  Conn b = conn("10.1.0.3:40200");
  d.login(a);
  d.login(b);
  d.say(b, Dir::C2S, "PORT 10,1,0,3,156,64\r\n");
  d.say(b, Dir::S2C, "200 ok\r\n");
  constexpr size_t kRepeats = 40;
  for (size_t i = 0; i < kRepeats; ++i) {
    d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
    d.say(a, Dir::S2C, "200 ok\r\n");
  }
  const std::vector<Event> p = d.of(EventKind::Port);
  ASSERT_EQ(p.size(), kRepeats + 1);
  for (size_t i = 1; i < p.size(); ++i) {
    ASSERT_EQ(p[i].verdict, Verdict::Admit) << "repeat " << i << " " << reasonName(p[i].reason);
    ASSERT_EQ(p[i].expect.dst, endpoint("198.51.100.7:40001")) << "repeat " << i;
  }
  EXPECT_EQ(d.engine.counter(Counter::PortReassigned), kRepeats);  // each moved off b's port
  EXPECT_EQ(d.engine.counter(Counter::NoFreePort), 0u);
  d.send(a, Dir::C2S, TcpRst | TcpAck, "");
  ASSERT_EQ(d.of(EventKind::Withdraw).size(), 1u);
  EXPECT_EQ(d.of(EventKind::Withdraw)[0].expect.dst, endpoint("198.51.100.7:40001"));
}

// Superseding keeps what the earlier, accepted PORT opened when the server refuses the repeat.
TEST(AnnounceKeys, ARefusedRepeatKeepsTheAcceptedOnesElements) {
  Driver d(withdrawing());
  Conn a = conn("10.1.0.2:40100");
  d.login(a);
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(a, Dir::S2C, "200 ok\r\n");
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(a, Dir::S2C, "200 ok\r\n");
  d.say(a, Dir::C2S, "PORT 10,1,0,2,156,64\r\n");
  d.say(a, Dir::S2C, "500 no\r\n");
  EXPECT_TRUE(d.of(EventKind::Withdraw).empty());
  d.send(a, Dir::C2S, TcpRst | TcpAck, "");
  EXPECT_EQ(d.of(EventKind::Withdraw).size(), 1u);
}

}  // namespace
}  // namespace ftpalg::test
