// Announcer: policy, formatting, splicing and the expectation budget; each refusal reason of
// the splice (partially_released, rewrite_table_full, unwritable_address) hit directly and
// through the engine.
#include "src/core/announce.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using core::Reason;
using core::Verdict;

TEST(ExpectationBudget, CountsOnlyLiveExpectations) {
  std::array<uint64_t, core::kMaxExpect> until{};
  EXPECT_EQ(core::outstandingExpectations(until, 10), 0u);
  core::recordExpectation(until, 3, 100);
  core::recordExpectation(until, 3, 200);
  EXPECT_EQ(core::outstandingExpectations(until, 10), 2u);
  EXPECT_EQ(core::outstandingExpectations(until, 150), 1u);
  core::recordExpectation(until, 3, 300);
  core::recordExpectation(until, 3, 400);  // replaces the one ending first (100)
  EXPECT_EQ(core::outstandingExpectations(until, 10), 3u);
  EXPECT_EQ(core::outstandingExpectations(until, 250), 2u);
}

// A session whose client (10.0.0.1) is behind SNAT (198.51.100.7), with a C2S buffer.
struct AnnounceFixture : ::testing::Test {
  core::EngineConfig cfg;
  core::Counters counters;
  core::DirBufferPool pool{1, 1024, 128};
  core::DataKeys keys{16};
  core::Announcer announcer{cfg, pool, keys, counters};
  core::Session s;
  core::Actions out;
  std::string line = "PORT 10,0,0,1,4,1";

  void SetUp() override {
    s.key = core::FlowKey{endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21")};
    s.nat = core::NatBinding{ipFromText("10.0.0.1"), ipFromText("198.51.100.7"),
                             ipFromText("192.0.2.1"), ipFromText("192.0.2.1")};
    s.at(Dir::C2S).next = s.at(Dir::C2S).released = 1000;
    ASSERT_NE(pool.acquire(s.at(Dir::C2S)), nullptr);
  }
  core::DirBuffer& buf(core::DirState& d) {
    core::DirBuffer* b = pool.get(d);
    if (b == nullptr) std::abort();  // the fixture gave the direction a buffer
    return *b;
  }
  const core::Event& run(uint64_t now = 1) {
    core::Announcement a;
    a.dir = Dir::C2S;
    a.form = core::commandForm(core::Verb::Port);
    a.parse = core::parsePort(line);
    a.line = line;
    a.lineSeq = 1000;
    a.handle = 9;
    a.nowNs = now;
    announcer.announce(s, a, out);
    return out.events[out.eventCount - 1];
  }
};

TEST_F(AnnounceFixture, AdmittedAndSpliced) {
  const core::Event& e = run();
  EXPECT_EQ(e.verdict, Verdict::Admit);
  EXPECT_EQ(e.reason, Reason::Rewritten);
  EXPECT_EQ(e.kind, core::EventKind::Port);
  EXPECT_EQ(e.handle, 9u);
  EXPECT_TRUE(e.hasRewritten);
  EXPECT_EQ(e.rewritten, endpoint("198.51.100.7:1025"));
  EXPECT_TRUE(e.hasExpect);
  EXPECT_EQ(buf(s.at(Dir::C2S)).map.size(), 1u);
  EXPECT_EQ(counters.get(core::Counter::Rewrites), 1u);
  EXPECT_EQ(counters.get(core::Counter::Admitted), 1u);
  EXPECT_EQ(core::outstandingExpectations(s.expectUntil, 1), 1u);
}

TEST_F(AnnounceFixture, FullRewriteTableIsItsOwnReason) {
  core::RewriteMap& map = buf(s.at(Dir::C2S)).map;
  for (uint32_t i = 0; i < core::RewriteMap::kMaxRecords; ++i) {
    ASSERT_TRUE(map.add(900 + i, 1, std::span<const char>("x", 1)));
  }
  const core::Event& e = run();
  EXPECT_EQ(e.verdict, Verdict::Refuse);
  EXPECT_EQ(e.reason, Reason::RewriteTableFull);
  EXPECT_FALSE(e.hasExpect);
  EXPECT_EQ(counters.get(core::Counter::SeqAdjFull), 1u);
  EXPECT_EQ(core::outstandingExpectations(s.expectUntil, 1), 0u);
}

TEST_F(AnnounceFixture, AddressTheFormCannotCarryIsItsOwnReason) {
  s.nat.clientOutside = ipFromText("2001:db8::7");  // PORT carries IPv4 only
  const core::Event& e = run();
  EXPECT_EQ(e.verdict, Verdict::Refuse);
  EXPECT_EQ(e.reason, Reason::UnwritableAddress);
  EXPECT_EQ(buf(s.at(Dir::C2S)).map.size(), 0u);
}

TEST_F(AnnounceFixture, AlreadyForwardedAddressIsPartiallyReleased) {
  s.at(Dir::C2S).released = 1010;
  const core::Event& e = run();
  EXPECT_EQ(e.verdict, Verdict::Refuse);
  EXPECT_EQ(e.reason, Reason::PartiallyReleased);
}

TEST_F(AnnounceFixture, BudgetIsTooManyExpectations) {
  cfg.maxExpectationsPerSession = 1;
  line = "PORT 198,51,100,7,4,1";  // already the public address: no splice needed
  EXPECT_EQ(run().verdict, Verdict::Admit);
  const core::Event& e = run();
  EXPECT_EQ(e.verdict, Verdict::Refuse);
  EXPECT_EQ(e.reason, Reason::TooManyExpectations);
}

TEST_F(AnnounceFixture, ParseErrorIsReported) {
  line = "PORT 10,0,0,1,4";
  const core::Event& e = run();
  EXPECT_EQ(e.verdict, Verdict::Refuse);
  EXPECT_EQ(e.reason, Reason::ParseFailed);
  EXPECT_EQ(e.parseError, core::ParseError::MissingField);
}

TEST_F(AnnounceFixture, DecidedAndCountedWhenTheEventCannotBeWritten) {
  out.eventCount = core::Actions::kMaxEvents;
  core::Announcement a;
  a.form = core::commandForm(core::Verb::Port);
  a.parse = core::parsePort(line);
  a.line = line;
  a.lineSeq = 1000;
  announcer.announce(s, a, out);
  EXPECT_EQ(counters.get(core::Counter::EventsSuppressed), 1u);
  EXPECT_EQ(counters.get(core::Counter::Admitted), 1u);
  EXPECT_EQ(buf(s.at(Dir::C2S)).map.size(), 1u);
}

// Through the engine: nine rewrites in one segment, none acknowledged, with expectations that
// end at once (no budget): the ninth finds the rewrite table full.
TEST(AnnounceThroughEngine, RewriteTableFull) {
  core::EngineConfig cfg;
  cfg.expectTimeoutNs = 0;
  ftpalg::test::EngineHarness::Options opt;
  opt.autoAck = false;
  ftpalg::test::EngineHarness h(cfg, opt);
  core::NatBinding b{h.client().addr, ipFromText("203.0.113.5"), h.server().addr, h.server().addr};
  h.setNat(b);
  h.handshake();
  std::string lines;
  for (int i = 0; i < 9; ++i) lines += "PORT 198,18,0,2,4," + std::to_string(i + 1) + "\r\n";
  h.send(Dir::C2S, lines, {lines.size()});
  ASSERT_EQ(h.events.size(), 9u);
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(h.events[i].reason, Reason::Rewritten) << i;
  EXPECT_EQ(h.events[8].verdict, Verdict::Refuse);
  EXPECT_EQ(h.events[8].reason, Reason::RewriteTableFull);
  EXPECT_EQ(core::reasonName(h.events[8].reason), "rewrite_table_full");
}

// Through the engine: the client's public address is IPv6, which PORT cannot carry.
TEST(AnnounceThroughEngine, UnwritableAddress) {
  ftpalg::test::EngineHarness h(core::EngineConfig{});
  core::NatBinding b{h.client().addr, ipFromText("2001:db8::5"), h.server().addr, h.server().addr};
  h.setNat(b);
  h.handshake();
  h.send(Dir::C2S, "PORT 198,18,0,2,4,1\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Refuse);
  EXPECT_EQ(h.events[0].reason, Reason::UnwritableAddress);
  EXPECT_EQ(core::reasonName(h.events[0].reason), "unwritable_address");
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,18,0,2,4,1\r\n");
}

}  // namespace
}  // namespace ftpalg::test
