// Tests for src/core/reply_tracker.cc: multi-line reply tracking, one table row per reply.
#include <gtest/gtest.h>

#include <ostream>
#include <string_view>
#include <vector>

#include "ftpalg/core/ftp_parser.h"
#include "tests/unit/core/wire_test_support.h"

namespace ftpalg::core {
namespace {

using test::CaseName;
using test::GuardBuffer;

// Reply tracking

struct ReplyStep {
  std::string_view line;
  ParseError error;  // None: Ok
  uint16_t code;
  bool first;
  bool last;
};

struct ReplyCase {
  const char* name;
  std::vector<ReplyStep> steps;
};

constexpr ParseError kNone = ParseError::None;

const std::vector<ReplyCase> kReplyCases = {
    {"Reply_SingleLine", {{"227 Entering Passive Mode (1,2,3,4,5,6)", kNone, 227, true, true}}},
    {"Reply_CodeOnly", {{"227", kNone, 227, true, true}}},
    {"Reply_MultiLine227",
     {{"227-Entering Passive Mode", kNone, 227, true, false},
      {" (10,0,0,1,4,1)", kNone, 227, false, false},
      {"227 done", kNone, 227, false, true}}},
    {"Reply_MultiLineOtherCodesInside",
     {{"227-a", kNone, 227, true, false},
      {"150 b", kNone, 227, false, false},
      {"227-c", kNone, 227, false, false},
      {"228 d", kNone, 227, false, false},
      {"227 end", kNone, 227, false, true}}},
    {"Reply_MultiLineCodeWithoutSpaceContinues",
     {{"227-a", kNone, 227, true, false},
      {"227", kNone, 227, false, false},
      {"227x", kNone, 227, false, false},
      {"", kNone, 227, false, false},
      {"227 end", kNone, 227, false, true}}},
    {"Reply_MultiLineThenNextReply",
     {{"227-a", kNone, 227, true, false},
      {"227 b", kNone, 227, false, true},
      {"200 ok", kNone, 200, true, true}}},
    {"Reply_DashOnly", {{"227-", kNone, 227, true, false}, {"227 ", kNone, 227, false, true}}},
    {"Reply_NoCode", {{"hello", ParseError::MissingField, 0, false, false}}},
    {"Reply_Empty", {{"", ParseError::MissingField, 0, false, false}}},
    {"Reply_TwoDigitCode", {{"22 x", ParseError::MissingField, 0, false, false}}},
    {"Reply_LeadingSpace", {{" 227 x", ParseError::MissingField, 0, false, false}}},
    {"Reply_BadSeparator", {{"227x", ParseError::TrailingGarbage, 0, false, false}}},
    {"Reply_TabSeparator", {{"227\tx", ParseError::TrailingGarbage, 0, false, false}}},
    {"Reply_FourDigitCode", {{"2270 x", ParseError::NumberTooLong, 0, false, false}}},
    {"Reply_CodeBelow100", {{"099 x", ParseError::BadNumber, 0, false, false}}},
    {"Reply_CodeAbove599", {{"600 x", ParseError::BadNumber, 0, false, false}}},
    {"Reply_Code100", {{"100 x", kNone, 100, true, true}}},
    {"Reply_Code599", {{"599 x", kNone, 599, true, true}}},
    {"Reply_InvalidDoesNotStartMultiLine",
     {{"22-x", ParseError::MissingField, 0, false, false}, {"227 ok", kNone, 227, true, true}}},
};

void PrintTo(const ReplyCase& c, std::ostream* os) { *os << c.name; }

class FtpParserReply : public ::testing::TestWithParam<ReplyCase> {};

TEST_P(FtpParserReply, Tracks) {
  ReplyTracker t;
  size_t i = 0;
  for (const ReplyStep& s : GetParam().steps) {
    SCOPED_TRACE(i++);
    const GuardBuffer g(s.line);
    const ReplyLine r = trackReply(t, g.view());
    if (s.error != kNone) {
      EXPECT_EQ(r.status, ParseStatus::Invalid);
      EXPECT_EQ(r.error, s.error);
      continue;
    }
    EXPECT_EQ(r.status, ParseStatus::Ok);
    EXPECT_EQ(r.error, kNone);
    EXPECT_EQ(r.code, s.code);
    EXPECT_EQ(r.first, s.first);
    EXPECT_EQ(r.last, s.last);
    EXPECT_EQ(t.inMulti, !s.last);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FtpParserReply, ::testing::ValuesIn(kReplyCases), CaseName());

}  // namespace
}  // namespace ftpalg::core
