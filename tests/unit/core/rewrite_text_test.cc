// rewriteText and the refusal reasons of a rewrite that cannot be spliced: an address the form
// cannot carry (unwritable_address), an EPRT whose rewritten address contains the line's own
// delimiter (delimiter_in_address), a direction without a buffer (no_buffer). Each is its own
// reason, never another one's (a full rewrite table: announce_test.cc).
#include "src/core/rewrite_text.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "src/core/announce.h"
#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

const WireForm& eprt() { return *commandForm(Verb::Eprt); }

TEST(RewriteText, FormatsLikeTheForm) {
  const RewriteText r = rewriteText(eprt(), endpoint("[2001:db8::7]:6000"), '|');
  EXPECT_EQ(std::string_view(r.text.data(), r.len), "|2|2001:db8::7|6000|");
  EXPECT_EQ(r.why, Reason::Ok);
}

TEST(RewriteText, DelimiterInTheAddressIsItsOwnReason) {
  const RewriteText r = rewriteText(eprt(), endpoint("[2001:db8:beef::7]:6000"), 'e');
  EXPECT_EQ(r.len, 0u);
  EXPECT_EQ(r.why, Reason::DelimiterInAddress);
}

TEST(RewriteText, AnAddressTheFormCannotCarryIsUnwritable) {
  const RewriteText r = rewriteText(*commandForm(Verb::Port), endpoint("[2001:db8::7]:6000"), ',');
  EXPECT_EQ(r.len, 0u);
  EXPECT_EQ(r.why, Reason::UnwritableAddress);
}

// Through the engine: the client's public address contains the EPRT line's delimiter 'e'. The
// line is refused with that reason and leaves as it came, whole or one byte at a time (then
// the address bytes already passed: refused too, never spliced into a line that cannot parse).
TEST(RewriteText, EprtWithTheDelimiterInTheRewrittenAddressIsRefused) {
  for (const size_t seg : {size_t{0}, size_t{1}}) {
    EngineHarness h(EngineConfig{}, {.v6 = true});
    h.setNat(NatBinding{h.client().addr, ipFromText("2001:db8:beef::7"), h.server().addr,
                        h.server().addr});
    h.handshake();
    h.send(Dir::S2C, "220 ready\r\n");
    const std::string line = "EPRT e2e2001:db8:1::2e40000e\r\n";
    h.send(Dir::C2S, line, {seg == 0 ? line.size() : seg});
    ASSERT_EQ(h.events.size(), 1u) << seg;
    EXPECT_EQ(h.events[0].verdict, Verdict::Refuse) << seg;
    EXPECT_FALSE(h.events[0].hasExpect) << seg;
    if (seg == 0) {
      EXPECT_EQ(h.events[0].reason, Reason::DelimiterInAddress);
      EXPECT_EQ(reasonName(h.events[0].reason), "delimiter_in_address");
    }
    EXPECT_EQ(h.delivered(Dir::C2S), line) << seg;
  }
}

// A splice with no buffer to record it in: never expected (the line was assembled in one), and
// reported as such, not as a full rewrite table.
TEST(RewriteText, MissingBufferIsItsOwnReason) {
  EngineConfig cfg;
  Counters counters;
  DirBufferPool pool{1, 1024, 128};
  DataKeys keys{16};
  Announcer announcer{cfg, pool, keys, counters};
  Session s;
  Actions out;
  s.key = FlowKey{endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21")};
  s.nat = NatBinding{ipFromText("10.0.0.1"), ipFromText("198.51.100.7"), ipFromText("192.0.2.1"),
                     ipFromText("192.0.2.1")};
  s.at(Dir::C2S).next = s.at(Dir::C2S).released = 1000;
  const std::string line = "PORT 10,0,0,1,4,1";
  Announcement a;
  a.form = commandForm(Verb::Port);
  a.parse = parsePort(line);
  a.line = line;
  a.lineSeq = 1000;
  announcer.announce(s, a, out);
  ASSERT_EQ(out.eventCount, 1u);
  EXPECT_EQ(out.events[0].verdict, Verdict::Refuse);
  EXPECT_EQ(out.events[0].reason, Reason::NoBuffer);
  EXPECT_EQ(reasonName(Reason::NoBuffer), "no_buffer");
}

}  // namespace
}  // namespace ftpalg::test
