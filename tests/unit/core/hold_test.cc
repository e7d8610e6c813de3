// decideHold as a table: which bytes of a line still arriving may pass, which are held and
// when an address is spliced early.
#include "src/core/hold.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using core::HoldDecision;
using core::HoldInput;
using core::NatBinding;
using Kind = HoldDecision::Kind;

constexpr uint32_t kLineStart = 1000;

NatBinding binding(bool snat, bool dnat) {
  using ftpalg::test::ipFromText;
  NatBinding b;
  b.clientInside = ipFromText("10.0.0.1");
  b.clientOutside = ipFromText(snat ? "10.0.0.9" : "10.0.0.1");
  b.serverInside = ipFromText("192.0.2.1");
  b.serverOutside = ipFromText(dnat ? "172.16.0.5" : "192.0.2.1");
  return b;
}

struct HoldCase {
  std::string_view name;
  Dir dir;
  std::string_view prefix;
  bool snat;
  bool dnat;
  Kind kind;
  uint32_t at = 0;             // HoldFrom / SpliceNow
  std::string_view text = {};  // SpliceNow
  uint16_t origLen = 0;        // SpliceNow
  uint32_t released = kLineStart;
  bool earlySpliced = false;
};

const HoldCase kCases[] = {
    {"no_nat_never_holds", Dir::C2S, "PORT 10,0,0,1", false, false, Kind::Pass},
    {"not_an_announcing_verb", Dir::C2S, "NOOP", true, false, Kind::Pass},
    {"verb_still_typed", Dir::C2S, "PO", true, false, Kind::Pass},
    {"verb_without_space", Dir::C2S, "PORT", true, false, Kind::Pass},
    {"address_part_that_reads_the_same", Dir::C2S, "PORT 10,0,0,", true, false, Kind::Pass},
    {"differing_byte_arriving", Dir::C2S, "PORT 10,0,0,1", true, false, Kind::HoldFrom,
     kLineStart + 12},
    {"address_complete_splices", Dir::C2S, "PORT 10,0,0,1,", true, false, Kind::SpliceNow,
     kLineStart + 12, "9,", 2},
    {"lower_case_verb", Dir::C2S, "port 10,0,0,1,", true, false, Kind::SpliceNow, kLineStart + 12,
     "9,", 2},
    {"splice_point_already_released",
     Dir::C2S,
     "PORT 10,0,0,1,",
     true,
     false,
     Kind::HoldFrom,
     kLineStart + 12,
     {},
     0,
     kLineStart + 13},
    {"third_party_address_passes", Dir::C2S, "PORT 10,0,0,2,", true, false, Kind::Pass},
    {"already_spliced",
     Dir::C2S,
     "PORT 10,0,0,1,4",
     true,
     false,
     Kind::Pass,
     0,
     {},
     0,
     kLineStart,
     true},
    {"eprt_waits_for_its_delimiter", Dir::C2S, "EPRT ", true, false, Kind::Pass},
    {"eprt_address_complete", Dir::C2S, "EPRT |1|10.0.0.1|", true, false, Kind::SpliceNow,
     kLineStart + 15, "9|", 2},
    {"eprt_other_delimiter", Dir::C2S, "EPRT !1!10.0.0.1", true, false, Kind::HoldFrom,
     kLineStart + 15},
    {"lprt_held_whole", Dir::C2S, "LPRT 4,4", true, false, Kind::HoldFrom, kLineStart},
    {"reply_without_dnat", Dir::S2C, "227 Entering", false, false, Kind::Pass},
    {"reply_with_dnat", Dir::S2C, "227 Entering", false, true, Kind::HoldFrom, kLineStart},
    {"reply_code_still_arriving", Dir::S2C, "22", false, true, Kind::HoldFrom, kLineStart},
    {"other_reply", Dir::S2C, "150 ", false, true, Kind::Pass},
    {"client_nat_does_not_hold_replies", Dir::S2C, "227 Entering", true, false, Kind::Pass},
};

TEST(HoldDecision, Table) {
  for (const HoldCase& c : kCases) {
    SCOPED_TRACE(std::string(c.name));
    const NatBinding nat = binding(c.snat, c.dnat);
    const core::ReplyTracker reply;
    HoldInput in;
    in.dir = c.dir;
    in.prefix = c.prefix;
    in.nat = &nat;
    in.reply = &reply;
    in.lineStart = kLineStart;
    in.released = c.released;
    in.earlySpliced = c.earlySpliced;
    const HoldDecision d = core::decideHold(in);
    ASSERT_EQ(d.kind, c.kind);
    if (c.kind == Kind::Pass) continue;
    EXPECT_EQ(d.at, c.at);
    if (c.kind == Kind::SpliceNow) {
      EXPECT_EQ(std::string_view(d.text.data(), d.textLen), c.text);
      EXPECT_EQ(d.origLen, c.origLen);
    }
  }
}

TEST(HoldDecision, MultiLineReplyContinuationMayCarryAnAddress) {
  const NatBinding nat = binding(false, true);
  core::ReplyTracker reply;
  reply.inMulti = true;
  reply.code = 227;
  HoldInput in;
  in.dir = Dir::S2C;
  in.prefix = " (192,0,2,1";
  in.nat = &nat;
  in.reply = &reply;
  in.lineStart = kLineStart;
  EXPECT_EQ(core::decideHold(in).kind, Kind::HoldFrom);
}

TEST(HoldDecision, EmptyPrefixPasses) {
  const NatBinding nat = binding(true, true);
  const core::ReplyTracker reply;
  HoldInput in;
  in.nat = &nat;
  in.reply = &reply;
  EXPECT_EQ(core::decideHold(in).kind, Kind::Pass);
}

}  // namespace
}  // namespace ftpalg::test
