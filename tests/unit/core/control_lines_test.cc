// ControlLines: what each complete line means. Commands fill the pairing ring, replies are
// judged by the command they answer, wire forms from the wrong side are refused
// (wrong_direction), AUTH TLS makes the session opaque.
#include "src/core/control_lines.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
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
  core::DataKeys keys{16};
  core::Announcer announcer{cfg, pool, keys, counters};
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

// What one event must show; fields left unset are not checked.
struct WantEvent {
  std::optional<EventKind> kind = std::nullopt;
  std::optional<Verdict> verdict = std::nullopt;
  std::optional<Reason> reason = std::nullopt;
  std::optional<uint16_t> announcedPort = std::nullopt;
};

// Whole lines fed in order, then exactly `events`, the counters and the session's state.
struct LinesCase {
  const char* name;
  std::vector<std::pair<Dir, std::string>> lines;
  std::vector<WantEvent> events;
  std::vector<std::pair<core::Counter, uint64_t>> counters = {};
  std::optional<size_t> pairingSize = std::nullopt;
  bool opaque = false;  // both directions
};

void PrintTo(const LinesCase& c, std::ostream* os) { *os << c.name; }

struct ControlLinesTable : ControlLinesFixture, ::testing::WithParamInterface<LinesCase> {};

TEST_P(ControlLinesTable, EventsAndState) {
  const LinesCase& c = GetParam();
  for (const auto& [dir, line] : c.lines) feed(dir, line);
  ASSERT_EQ(out.eventCount, c.events.size()) << c.name;
  for (size_t i = 0; i < c.events.size(); ++i) {
    const core::Event& e = out.events[i];
    const WantEvent& want = c.events[i];
    if (want.kind) {
      EXPECT_EQ(e.kind, *want.kind) << c.name << " event " << i;
    }
    if (want.verdict) {
      EXPECT_EQ(e.verdict, *want.verdict) << c.name << " event " << i;
    }
    if (want.reason) {
      EXPECT_EQ(e.reason, *want.reason) << c.name << " event " << i;
    }
    if (want.announcedPort) {
      EXPECT_EQ(e.announced.port, *want.announcedPort) << c.name << " event " << i;
    }
  }
  for (const auto& [counter, value] : c.counters) {
    EXPECT_EQ(counters.get(counter), value) << c.name << " " << core::counterName(counter);
  }
  if (c.pairingSize) {
    EXPECT_EQ(s.pairing.size(), *c.pairingSize) << c.name;
  }
  EXPECT_EQ(s.dir[0].opaque, c.opaque) << c.name;
  EXPECT_EQ(s.dir[1].opaque, c.opaque) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    ControlLines, ControlLinesTable,
    ::testing::Values(
        LinesCase{.name = "PassiveReplyAnswersItsCommand",
                  .lines = {{Dir::S2C, "220 hello"},
                            {Dir::C2S, "PASV"},
                            {Dir::S2C, "227 Entering Passive Mode (192,0,2,1,4,1)"}},
                  .events = {{.kind = EventKind::Pasv227, .verdict = Verdict::Admit}},
                  .pairingSize = 0},
        LinesCase{.name = "PassiveReplyWithoutCommandIsUnsolicited",
                  .lines = {{Dir::S2C, "220 hello"},
                            {Dir::C2S, "NOOP"},
                            {Dir::S2C, "227 Entering Passive Mode (192,0,2,1,4,1)"}},
                  .events = {{.reason = Reason::Unsolicited}}},
        LinesCase{.name = "MultiLineReplyAnnouncesItsFirstAddressOnly",
                  .lines = {{Dir::S2C, "220 hello"},
                            {Dir::C2S, "PASV"},
                            {Dir::S2C, "227-Entering Passive Mode (192,0,2,1,4,1)"},
                            {Dir::S2C, " (192,0,2,1,4,2)"},
                            {Dir::S2C, "227 ok"}},
                  .events = {{.announcedPort = 1025}}},
        LinesCase{.name = "WireFormsFromTheWrongSideAreRefused",
                  .lines = {{Dir::C2S, "227 Entering Passive Mode (10,0,0,1,4,1)"},
                            {Dir::S2C, "PORT 192,0,2,1,4,1"},
                            {Dir::S2C, "EPRT |1|192.0.2.1|1025|"}},
                  .events = {{.kind = EventKind::Pasv227,
                              .verdict = Verdict::Refuse,
                              .reason = Reason::WrongDirection},
                             {.kind = EventKind::Port,
                              .verdict = Verdict::Refuse,
                              .reason = Reason::WrongDirection},
                             {.kind = EventKind::Eprt,
                              .verdict = Verdict::Refuse,
                              .reason = Reason::WrongDirection}}},
        LinesCase{.name = "LprtFromTheServerIsNotReported",
                  .lines = {{Dir::S2C, "LPRT 4,4,192,0,2,1,2,4,1"}},
                  .events = {},
                  .counters = {{core::Counter::BadLine, 1}}},
        LinesCase{
            .name = "AuthTlsMakesBothDirectionsOpaque",
            .lines = {{Dir::S2C, "220 hello"}, {Dir::C2S, "AUTH TLS"}, {Dir::S2C, "234 go ahead"}},
            .events = {{.kind = EventKind::AuthTls, .reason = Reason::TlsOpaque}},
            .opaque = true}),
    [](const ::testing::TestParamInfo<LinesCase>& p) { return std::string(p.param.name); });

TEST_F(ControlLinesFixture, ReplyWithoutAddressReportsOnItsLastLine) {
  feed(Dir::S2C, "220 hello");
  feed(Dir::C2S, "PASV");
  feed(Dir::S2C, "227-Entering Passive Mode");
  EXPECT_EQ(out.eventCount, 0u);
  feed(Dir::S2C, "227 no address here");
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].reason, Reason::ParseFailed);
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
