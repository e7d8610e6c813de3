// Tests for src/core/ftp_parser.cc: command classification, the hold predicates and the names
// of ParseError. Line framing, reply tracking and the address parsers and formatters have
// their own test files, named after their source files.
#include "ftpalg/core/ftp_parser.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string_view>
#include <vector>

#include "tests/unit/core/wire_test_support.h"

namespace ftpalg::core {
namespace {

using test::CaseName;
using test::GuardBuffer;

// ---------------------------------------------------------------------------------------------
// Command classification

struct CommandCase {
  const char* name;
  std::string_view line;
  Verb verb;
  std::string_view arg;
  bool epsvAll = false;
  bool authTls = false;
};

const std::vector<CommandCase> kCommandCases = {
    {"Classify_PortUpper", "PORT 1,2,3,4,5,6", Verb::Port, "1,2,3,4,5,6"},
    {"Classify_PortLower", "port 1,2,3,4,5,6", Verb::Port, "1,2,3,4,5,6"},
    {"Classify_PortMixed", "Port 1,2,3,4,5,6", Verb::Port, "1,2,3,4,5,6"},
    {"Classify_PortNoArgument", "PORT", Verb::Port, ""},
    {"Classify_PortEmptyArgument", "PORT ", Verb::Port, ""},
    {"Classify_ArgKeepsExtraSpace", "PORT  1", Verb::Port, " 1"},
    {"Classify_PortSuffixIsOther", "PORTX 1,2,3,4,5,6", Verb::Other, ""},
    {"Classify_LeadingSpaceIsOther", " PORT 1,2,3,4,5,6", Verb::Other, ""},
    {"Classify_TabSeparatorIsOther", "PORT\t1,2,3,4,5,6", Verb::Other, ""},
    {"Classify_ShortLineIsOther", "PO", Verb::Other, ""},
    {"Classify_EmptyIsOther", "", Verb::Other, ""},
    {"Classify_NoopIsOther", "NOOP", Verb::Other, ""},
    {"Classify_Eprt", "EPRT |1|1.2.3.4|5|", Verb::Eprt, "|1|1.2.3.4|5|"},
    {"Classify_Lprt", "lprt 4,4,1,2,3,4,2,0,1", Verb::Lprt, "4,4,1,2,3,4,2,0,1"},
    {"Classify_Pasv", "PASV", Verb::Pasv, ""},
    {"Classify_PasvLower", "pasv", Verb::Pasv, ""},
    {"Classify_Epsv", "EPSV", Verb::Epsv, ""},
    {"Classify_EpsvFamily", "EPSV 2", Verb::Epsv, "2"},
    {"Classify_Lpsv", "LPSV", Verb::Lpsv, ""},
    {"Classify_EpsvAll", "EPSV ALL", Verb::Epsv, "ALL", true},
    {"Classify_EpsvAllLower", "epsv all", Verb::Epsv, "all", true},
    {"Classify_EpsvAllTrailingSpace", "EPSV ALL ", Verb::Epsv, "ALL ", true},
    {"Classify_EpsvAllSuffix", "EPSV ALLX", Verb::Epsv, "ALLX", false},
    {"Classify_EpsvAllTwoSpaces", "EPSV  ALL", Verb::Epsv, " ALL", false},
    {"Classify_AuthTls", "AUTH TLS", Verb::Auth, "TLS", false, true},
    {"Classify_AuthSslLower", "auth ssl", Verb::Auth, "ssl", false, true},
    {"Classify_AuthTlsC", "AUTH TLS-C", Verb::Auth, "TLS-C", false, true},
    {"Classify_AuthTlsP", "Auth tls-p", Verb::Auth, "tls-p", false, true},
    {"Classify_AuthGssapi", "AUTH GSSAPI", Verb::Auth, "GSSAPI", false, false},
    {"Classify_AuthNoArgument", "AUTH", Verb::Auth, "", false, false},
    {"Classify_AuthTlsSuffix", "AUTH TLSX", Verb::Auth, "TLSX", false, false},
};

void PrintTo(const CommandCase& c, std::ostream* os) { *os << c.name; }

class FtpParserCommand : public ::testing::TestWithParam<CommandCase> {};

TEST_P(FtpParserCommand, Classifies) {
  const CommandCase& c = GetParam();
  const GuardBuffer g(c.line);
  const Command cmd = classifyCommand(g.view());
  EXPECT_EQ(cmd.verb, c.verb);
  EXPECT_EQ(cmd.arg, c.arg);
  EXPECT_EQ(cmd.epsvAll, c.epsvAll);
  EXPECT_EQ(cmd.authTls, c.authTls);
  if (!cmd.arg.empty()) {
    EXPECT_GE(cmd.arg.data(), g.view().data());
    EXPECT_EQ(cmd.arg.data() + cmd.arg.size(), g.view().data() + g.view().size());
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FtpParserCommand, ::testing::ValuesIn(kCommandCases), CaseName());

// ---------------------------------------------------------------------------------------------
// Hold predicates

struct PrefixCase {
  const char* name;
  std::string_view prefix;
  bool want;
};

const std::vector<PrefixCase> kCommandPrefixCases = {
    {"Empty", "", true},
    {"P", "P", true},
    {"LowerPo", "po", true},
    {"Port", "PORT", true},
    {"PortSpace", "PORT ", true},
    {"PortPartial", "PORT 1,2", true},
    {"EprtPartial", "eprt |", true},
    {"Lpr", "LPR", true},
    {"E", "E", true},
    {"PortCr", "PORT\r", true},
    {"Noop", "NOOP", false},
    {"PortX", "PORTX", false},
    {"LeadingSpace", " PORT", false},
    {"Pasv", "PASV", false},
    {"Q", "Q", false},
    {"Epsv", "EPSV 2", false},
    {"PortTab", "PORT\t1", false},
};

void PrintTo(const PrefixCase& c, std::ostream* os) { *os << c.name; }

class FtpParserMayBeCommand : public ::testing::TestWithParam<PrefixCase> {};

TEST_P(FtpParserMayBeCommand, Predicts) {
  const GuardBuffer g(GetParam().prefix);
  EXPECT_EQ(mayBeAnnouncingCommand(g.view()), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Cases, FtpParserMayBeCommand, ::testing::ValuesIn(kCommandPrefixCases),
                         CaseName());

struct ReplyPrefixCase {
  const char* name;
  std::string_view prefix;
  bool inMulti;
  uint16_t code;
  bool want;
};

const std::vector<ReplyPrefixCase> kReplyPrefixCases = {
    {"Empty", "", false, 0, true},
    {"Two", "2", false, 0, true},
    {"TwoTwo", "22", false, 0, true},
    {"Code227", "227", false, 0, true},
    {"Code227Text", "227 Ent", false, 0, true},
    {"Code228Dash", "228-", false, 0, true},
    {"Code229", "229 (", false, 0, true},
    {"Code226", "226 ", false, 0, false},
    {"Code150", "150 ", false, 0, false},
    {"One", "1", false, 0, false},
    {"TwoThree", "23", false, 0, false},
    {"Code230", "230", false, 0, false},
    {"Continuation227", "anything at all", true, 227, true},
    {"Continuation229", " (|||1|)", true, 229, true},
    {"ContinuationOf150", "227 Entering", true, 150, false},
};

void PrintTo(const ReplyPrefixCase& c, std::ostream* os) { *os << c.name; }

class FtpParserMayBeReply : public ::testing::TestWithParam<ReplyPrefixCase> {};

TEST_P(FtpParserMayBeReply, Predicts) {
  const ReplyPrefixCase& c = GetParam();
  const GuardBuffer g(c.prefix);
  EXPECT_EQ(mayBeAnnouncingReply(g.view(), c.inMulti, c.code), c.want);
}

INSTANTIATE_TEST_SUITE_P(Cases, FtpParserMayBeReply, ::testing::ValuesIn(kReplyPrefixCases),
                         CaseName());

// ---------------------------------------------------------------------------------------------
// Error names

TEST(FtpParserErrorName, NamesAreSnakeCaseAndDistinct) {
  std::vector<std::string_view> seen;
  for (size_t i = 0; i < static_cast<size_t>(ParseError::Count); ++i) {
    const std::string_view n = parseErrorName(static_cast<ParseError>(i));
    ASSERT_FALSE(n.empty());
    for (char c : n) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << n;
    for (std::string_view s : seen) EXPECT_NE(s, n);
    seen.push_back(n);
  }
  EXPECT_EQ(parseErrorName(ParseError::LineTooLong), "line_too_long");
  EXPECT_EQ(parseErrorName(ParseError::OctetOutOfRange), "octet_out_of_range");
  EXPECT_EQ(parseErrorName(ParseError::NoAddress), "no_address");
  EXPECT_EQ(parseErrorName(ParseError::Count), "unknown");
}

}  // namespace
}  // namespace ftpalg::core
