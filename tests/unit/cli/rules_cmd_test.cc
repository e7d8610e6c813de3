#include "cli/rules_cmd.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace ftpalg::test {

using namespace ftpalg::cli;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

TEST(ParseQueueRange, SingleAndRange) {
  uint16_t first = 9, count = 9;
  ASSERT_TRUE(parseQueueRange("0", first, count).ok());
  EXPECT_EQ(first, 0);
  EXPECT_EQ(count, 1);
  ASSERT_TRUE(parseQueueRange("3-6", first, count).ok());
  EXPECT_EQ(first, 3);
  EXPECT_EQ(count, 4);
  ASSERT_TRUE(parseQueueRange("65535", first, count).ok());
  EXPECT_EQ(first, 65535);
  ASSERT_TRUE(parseQueueRange("0-63", first, count).ok());
  EXPECT_EQ(count, 64);
}

TEST(ParseQueueRange, Strict) {
  uint16_t first = 0, count = 0;
  for (const char* bad : {"", "-", "1-", "-1", "a", "0x1", "+1", " 1", "1 ", "65536", "0-65536",
                          "1,2", "0-1-2", "3-2", "0-64", "123456"}) {
    EXPECT_FALSE(parseQueueRange(bad, first, count).ok()) << bad;
  }
  EXPECT_EQ(parseQueueRange("3-2", first, count).message(), "'3-2': the range is descending");
  EXPECT_EQ(parseQueueRange("0-64", first, count).message(), "'0-64': at most 64 queues");
}

TEST(MakeRulesRequest, Defaults) {
  RulesRequest r;
  ASSERT_TRUE(makeRulesRequest({}, r).ok());
  EXPECT_EQ(r.spec.firstQueue, 0);
  EXPECT_EQ(r.spec.queueCount, 1);
  EXPECT_EQ(r.spec.ports, std::vector<uint16_t>{21});
  EXPECT_FALSE(r.spec.bypass);
  EXPECT_EQ(r.pinhole.ctMark, 0xf7a1u);
  EXPECT_EQ(r.pinhole.table, "ftpalg_q0");
  EXPECT_EQ(r.pinhole.timeoutMs, 30000u);
  EXPECT_EQ(r.form, QueueFormRequest::Auto);
  EXPECT_EQ(r.family, kernel::QueueFamily::Inet);
}

TEST(MakeRulesRequest, EveryOption) {
  RulesOptions o;
  o.queues = "0-1";
  o.ports = "21,2121,2122,2121";
  o.failOpen = true;
  o.mark = "0x42";
  o.table = "alg_2";
  o.pinholeTimeoutS = 5;
  o.queueForm = "nft";
  o.family = "ip6";
  RulesRequest r;
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.spec.firstQueue, 0);
  EXPECT_EQ(r.spec.queueCount, 2);
  EXPECT_EQ(r.spec.ports, (std::vector<uint16_t>{21, 2121, 2122}));
  EXPECT_TRUE(r.spec.bypass);
  EXPECT_EQ(r.pinhole.ctMark, 0x42u);
  EXPECT_EQ(r.pinhole.table, "alg_2");
  EXPECT_EQ(r.pinhole.timeoutMs, 5000u);
  EXPECT_EQ(r.form, QueueFormRequest::Nft);
  EXPECT_EQ(r.family, kernel::QueueFamily::Ip6);

  o.queueForm = "iptables";
  o.family = "ip";
  o.mark = "4294967295";
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.form, QueueFormRequest::Iptables);
  EXPECT_EQ(r.family, kernel::QueueFamily::Ip);
  EXPECT_EQ(r.pinhole.ctMark, 0xffffffffu);
}

TEST(MakeRulesRequest, PortsAddTo21) {
  RulesOptions o;
  o.ports = "2121";
  RulesRequest r;
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.spec.ports, (std::vector<uint16_t>{21, 2121}));
  o.ports = "1,2,3,4,5,6,7";
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.spec.ports.size(), 8u);
  o.ports = "1,2,3,4,5,6,7,8";
  EXPECT_EQ(makeRulesRequest(o, r).message(), "--ports: at most 8 control ports (21 included)");
}

// One bad option and the message it must give: exactly, or starting with `want`.
struct OptionError {
  const char* name;
  void (*set)(RulesOptions&);
  const char* want;
  bool exact;
};

void PrintTo(const OptionError& c, std::ostream* os) { *os << c.name; }

class MakeRulesRequestErrors : public ::testing::TestWithParam<OptionError> {};

TEST_P(MakeRulesRequestErrors, NameTheOption) {
  const OptionError& c = GetParam();
  RulesOptions o;
  c.set(o);
  RulesRequest r;
  const Status s = makeRulesRequest(o, r);
  EXPECT_FALSE(s.ok()) << c.name;
  if (c.exact) {
    EXPECT_EQ(s.message(), c.want) << c.name;
  } else {
    EXPECT_TRUE(s.message().starts_with(c.want)) << c.name << ": " << s.message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    MakeRulesRequest, MakeRulesRequestErrors,
    ::testing::Values(
        OptionError{"QueuesNotANumber", [](RulesOptions& o) { o.queues = "x"; }, "--queues ",
                    false},
        OptionError{"PortZero", [](RulesOptions& o) { o.ports = "21,0"; },
                    "--ports 21,0: port 0 is out of range 1..65535", true},
        OptionError{"PortsTrailingComma", [](RulesOptions& o) { o.ports = "21,"; },
                    "--ports 21,: ", false},
        OptionError{"MarkZero", [](RulesOptions& o) { o.mark = "0"; }, "--mark 0: ", false},
        OptionError{"MarkHexWithoutDigits", [](RulesOptions& o) { o.mark = "0x"; },
                    "--mark 0x: ", false},
        OptionError{"MarkHexAbove32Bits", [](RulesOptions& o) { o.mark = "0x100000000"; },
                    "--mark ", false},
        OptionError{"MarkDecimalAbove32Bits", [](RulesOptions& o) { o.mark = "4294967296"; },
                    "--mark ", false},
        OptionError{"MarkNegative", [](RulesOptions& o) { o.mark = "-1"; }, "--mark ", false},
        OptionError{"TableStartsWithADigit", [](RulesOptions& o) { o.table = "1abc"; },
                    "--table 1abc: ", false},
        OptionError{"TableWithASpace", [](RulesOptions& o) { o.table = "a b"; }, "--table ", false},
        OptionError{"TableEmpty", [](RulesOptions& o) { o.table = ""; }, "--table ", false},
        OptionError{"PinholeTimeoutZero", [](RulesOptions& o) { o.pinholeTimeoutS = 0; },
                    "--pinhole-timeout 0: ", false},
        OptionError{"QueueFormUnknown", [](RulesOptions& o) { o.queueForm = "xt"; },
                    "--queue-form xt: expected auto, nft or iptables", true},
        OptionError{"FamilyUnknown", [](RulesOptions& o) { o.family = "arp"; },
                    "--family arp: expected inet, ip or ip6", true}),
    [](const ::testing::TestParamInfo<OptionError>& p) { return std::string(p.param.name); });

TEST(RulesText, AnAskedFormIsPrintedWithoutProbing) {
  RulesOptions o;
  o.queueForm = "iptables";
  o.queues = "2-3";
  RulesRequest r;
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(rulesText(r),
            kernel::adminRulesText(kernel::requestedQueueForm(kernel::QueueForm::Iptables), r.spec,
                                   r.family, r.pinhole));
  o.queueForm = "nft";
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(rulesText(r), kernel::adminRulesText(kernel::requestedQueueForm(kernel::QueueForm::Nft),
                                                 r.spec, r.family, r.pinhole));
}

}  // namespace

// `ftpalg rules --session-mark`: the mark of rewritten control connections that fail-open rules
// queue without bypass (default 0xf7a2, "0" for none).
namespace {

using cli::makeRulesRequest;
using cli::RulesOptions;
using cli::RulesRequest;

TEST(RulesSessionMark, DefaultNoneAndBad) {
  RulesRequest r;
  ASSERT_TRUE(makeRulesRequest({}, r).ok());
  EXPECT_EQ(r.spec.sessionMark, 0xf7a2u);
  RulesOptions o;
  o.sessionMark = "0";
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.spec.sessionMark, 0u);
  o.sessionMark = "0x10";
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.spec.sessionMark, 0x10u);
  o.sessionMark = "x";
  EXPECT_FALSE(makeRulesRequest(o, r).ok());
}

}  // namespace
}  // namespace ftpalg::test
