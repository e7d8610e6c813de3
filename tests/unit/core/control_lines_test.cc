// ControlLines: what each complete line means. Commands fill the pairing ring, replies are
// judged by the command they answer, wire forms from the wrong side are refused
// (wrong_direction), AUTH TLS makes the session opaque.
#include "src/core/control_lines.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using core::EventKind;
using core::Pending;
using core::Reason;
using core::Verdict;

struct ControlLinesFixture : ::testing::Test {
  core::EngineConfig cfg;
  core::Counters counters;
  core::DirBufferPool pool{2, 1024, 128};
  core::Announcer announcer{cfg, pool, counters};
  core::ControlLines lines{announcer, counters};
  core::Session s;
  core::Actions out;

  void SetUp() override {
    s.key = core::FlowKey{endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21")};
    s.nat = core::NatBinding{s.key.client.addr, s.key.client.addr, s.key.server.addr,
                             s.key.server.addr};
    s.pairing.startAtGreeting();
  }
  void feed(Dir d, std::string_view line) {
    const core::LineContext c{s, d, 1, 1, out};
    lines.onLine(c, line, 1000);
  }
  std::vector<core::Event> events() const {
    return {out.events.begin(), out.events.begin() + static_cast<std::ptrdiff_t>(out.eventCount)};
  }
};

TEST_F(ControlLinesFixture, PassiveReplyAnswersItsCommand) {
  feed(Dir::S2C, "220 hello");
  feed(Dir::C2S, "PASV");
  feed(Dir::S2C, "227 Entering Passive Mode (192,0,2,1,4,1)");
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].kind, EventKind::Pasv227);
  EXPECT_EQ(out.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(s.pairing.size(), 0u);
}

TEST_F(ControlLinesFixture, PassiveReplyWithoutCommandIsUnsolicited) {
  feed(Dir::S2C, "220 hello");
  feed(Dir::C2S, "NOOP");
  feed(Dir::S2C, "227 Entering Passive Mode (192,0,2,1,4,1)");
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].reason, Reason::Unsolicited);
}

TEST_F(ControlLinesFixture, MultiLineReplyAnnouncesItsFirstAddressOnly) {
  feed(Dir::S2C, "220 hello");
  feed(Dir::C2S, "PASV");
  feed(Dir::S2C, "227-Entering Passive Mode (192,0,2,1,4,1)");
  feed(Dir::S2C, " (192,0,2,1,4,2)");
  feed(Dir::S2C, "227 ok");
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].announced.port, 1025);
}

TEST_F(ControlLinesFixture, ReplyWithoutAddressReportsOnItsLastLine) {
  feed(Dir::S2C, "220 hello");
  feed(Dir::C2S, "PASV");
  feed(Dir::S2C, "227-Entering Passive Mode");
  EXPECT_EQ(out.eventCount, 0u);
  feed(Dir::S2C, "227 no address here");
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].reason, Reason::ParseFailed);
}

TEST_F(ControlLinesFixture, WireFormsFromTheWrongSideAreRefused) {
  feed(Dir::C2S, "227 Entering Passive Mode (10,0,0,1,4,1)");
  feed(Dir::S2C, "PORT 192,0,2,1,4,1");
  feed(Dir::S2C, "EPRT |1|192.0.2.1|1025|");
  ASSERT_EQ(out.eventCount, 3u);
  for (const core::Event& e : events()) {
    EXPECT_EQ(e.verdict, Verdict::Refuse);
    EXPECT_EQ(e.reason, Reason::WrongDirection);
  }
  EXPECT_EQ(out.events[0].kind, EventKind::Pasv227);
  EXPECT_EQ(out.events[1].kind, EventKind::Port);
  EXPECT_EQ(out.events[2].kind, EventKind::Eprt);
}

TEST_F(ControlLinesFixture, LprtFromTheServerIsNotReported) {
  feed(Dir::S2C, "LPRT 4,4,192,0,2,1,2,4,1");
  EXPECT_EQ(out.eventCount, 0u);
  EXPECT_EQ(counters.get(core::Counter::BadLine), 1u);
}

TEST_F(ControlLinesFixture, EpsvAllIsRememberedAndReported) {
  feed(Dir::C2S, "EPSV ALL");
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].kind, EventKind::EpsvAll);
  EXPECT_TRUE(s.epsvAll);
  feed(Dir::C2S, "PORT 10,0,0,1,4,1");
  ASSERT_EQ(out.eventCount, 2u);
  EXPECT_EQ(out.events[1].reason, Reason::EpsvAllActive);
}

TEST_F(ControlLinesFixture, AuthTlsMakesBothDirectionsOpaque) {
  feed(Dir::S2C, "220 hello");
  feed(Dir::C2S, "AUTH TLS");
  feed(Dir::S2C, "234 go ahead");
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].kind, EventKind::AuthTls);
  EXPECT_EQ(out.events[0].reason, Reason::TlsOpaque);
  EXPECT_TRUE(s.dir[0].opaque);
  EXPECT_TRUE(s.dir[1].opaque);
}

TEST_F(ControlLinesFixture, UnknownPairingIsRelearntFromAPassiveReply) {
  feed(Dir::C2S, "NOOP");
  feed(Dir::C2S, "EPSV");
  s.pairing.forget();
  feed(Dir::S2C, "229 Entering Extended Passive Mode (|||6446|)");
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].verdict, Verdict::Admit);
  EXPECT_TRUE(s.pairing.known());
}

TEST_F(ControlLinesFixture, RingOverflowIsCountedOnce) {
  for (size_t i = 0; i < core::PairingRing::kCapacity + 3; ++i) feed(Dir::C2S, "NOOP");
  EXPECT_EQ(counters.get(core::Counter::PairingLost), 1u);
  EXPECT_FALSE(s.pairing.known());
}

TEST_F(ControlLinesFixture, BadLineReportedOnlyWhenItCouldHaveAnnounced) {
  const core::LineContext c{s, Dir::C2S, 1, 1, out};
  lines.onBadLine(c, "NOOP\rx", core::ParseError::BareCr);
  EXPECT_EQ(out.eventCount, 0u);
  lines.onBadLine(c, "PORT 1,2\rx", core::ParseError::BareCr);
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].kind, EventKind::Malformed);
  EXPECT_EQ(out.events[0].reason, Reason::ParseFailed);
  EXPECT_EQ(counters.get(core::Counter::BadLine), 2u);
}

}  // namespace
}  // namespace ftpalg::test
