// The wire-form table walked row by row: every row parses its own example and formats back to
// the same address text; each row is found only from its own direction; a form from the wrong
// direction is refused as wrong_direction (policy and engine).
#include "src/core/wire_forms.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>

#include "src/core/policy.h"
#include "tests/support/engine_harness.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using core::WireForm;

TEST(WireForms, OneRowPerAnnouncementKindInOrder) {
  const auto forms = core::wireForms();
  ASSERT_EQ(forms.size(), 6u);
  std::set<std::string> leads;
  for (size_t i = 0; i < forms.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(forms[i].kind), i);
    EXPECT_EQ(core::wireFormOf(forms[i].kind), &forms[i]);
    EXPECT_TRUE(leads.insert(std::string(forms[i].lead)).second) << forms[i].lead;
  }
  EXPECT_EQ(core::wireFormOf(core::EventKind::AuthTls), nullptr);
}

TEST(WireForms, EveryRowParsesItsExampleAndFormatsItBack) {
  for (const WireForm& f : core::wireForms()) {
    SCOPED_TRACE(std::string(f.example));
    EXPECT_TRUE(f.example.starts_with(f.lead));
    const core::AddrParse p = f.parse(f.example);
    ASSERT_EQ(p.status, core::ParseStatus::Ok);
    std::array<char, 80> text{};
    const size_t n = f.format(p.ep, p.delim, text);
    ASSERT_GT(n, 0u);
    EXPECT_EQ(std::string(text.data(), n),
              std::string(f.example.substr(p.span.offset, p.span.length)));
  }
}

TEST(WireForms, RowsAreFoundFromTheirOwnDirectionOnly) {
  for (const WireForm& f : core::wireForms()) {
    SCOPED_TRACE(std::string(f.lead));
    if (f.from == Dir::C2S) {
      EXPECT_EQ(core::commandForm(core::classifyCommand(f.example).verb), &f);
      EXPECT_EQ(core::commandFormOfPrefix(f.example), &f);
      EXPECT_EQ(core::replyFormOfLine(f.example), nullptr);
      EXPECT_EQ(f.code, 0);
      EXPECT_EQ(f.answers, core::Pending::Other);
    } else {
      EXPECT_EQ(core::replyForm(f.code), &f);
      EXPECT_EQ(core::replyFormOfLine(f.example), &f);
      EXPECT_EQ(core::commandFormOfPrefix(f.example), nullptr);
      EXPECT_EQ(f.verb, core::Verb::Other);
      EXPECT_NE(f.answers, core::Pending::Other);
    }
  }
  EXPECT_EQ(core::commandForm(core::Verb::Pasv), nullptr);
  EXPECT_EQ(core::replyForm(226), nullptr);
}

TEST(WireForms, EarlySpliceOnlyWhereTheAddressPrefixIsKnown) {
  EXPECT_NE(core::commandForm(core::Verb::Port)->addressPrefix, nullptr);
  EXPECT_NE(core::commandForm(core::Verb::Eprt)->addressPrefix, nullptr);
  EXPECT_EQ(core::commandForm(core::Verb::Lprt)->addressPrefix, nullptr);
  for (const WireForm& f : core::wireForms()) {
    if (f.from == Dir::S2C) {
      EXPECT_EQ(f.addressPrefix, nullptr) << f.lead;
    }
  }
}

TEST(WireForms, PolicyRefusesEveryRowFromTheOtherDirection) {
  const core::EngineConfig cfg = [] {
    core::EngineConfig c;
    c.allowLongForms = true;
    c.allowBounce = true;
    return c;
  }();
  for (const WireForm& f : core::wireForms()) {
    SCOPED_TRACE(std::string(f.lead));
    const core::AddrParse p = f.parse(f.example);
    const core::NatBinding nat{p.ep.addr, p.ep.addr, p.ep.addr, p.ep.addr};
    core::AnnouncementContext ctx;
    ctx.kind = f.kind;
    ctx.parse = &p;
    ctx.connFamily = p.hasAddr ? p.ep.addr.family : core::Family::V4;
    ctx.nat = &nat;
    ctx.config = &cfg;
    ctx.dir = core::opposite(f.from);
    EXPECT_EQ(core::decideAnnouncement(ctx).reason, core::Reason::WrongDirection);
    ctx.dir = f.from;
    EXPECT_NE(core::decideAnnouncement(ctx).reason, core::Reason::WrongDirection);
  }
}

TEST(WireForms, EngineRefusesFormsFromTheWrongSide) {
  ftpalg::test::EngineHarness h(core::EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 hi\r\n");
  h.send(Dir::C2S, "229 Entering Extended Passive Mode (|||6446|)\r\n");
  h.send(Dir::C2S, "228 Entering Long Passive Mode (4,4,198,18,0,2,2,24,131)\r\n");
  h.send(Dir::S2C, "EPRT |1|198.19.0.2|6275|\r\n");
  ASSERT_EQ(h.events.size(), 3u);
  for (const core::Event& e : h.events) {
    EXPECT_EQ(e.verdict, core::Verdict::Refuse);
    EXPECT_EQ(e.reason, core::Reason::WrongDirection);
  }
}

}  // namespace
}  // namespace ftpalg::test
