// Tests for src/core/line_framing.cc. Every case is framed inside a stream (CRLF and bare LF)
// that is cut whole, byte by byte and at every split point, each call from a buffer that ends
// at a PROT_NONE page.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/ftp_parser.h"
#include "tests/unit/core/wire_test_support.h"

namespace ftpalg::core {
namespace {

using namespace std::string_view_literals;
using test::byteCuts;
using test::CaseName;
using test::FrameEvent;
using test::frameStream;
using test::GuardBuffer;
using test::kMaxLine;

// Runs `wire` whole, byte by byte and at every split point; all must give `want`.
void expectStream(std::string_view wire, size_t maxLine, const std::vector<FrameEvent>& want) {
  EXPECT_EQ(frameStream(wire, maxLine, {}), want) << "whole";
  EXPECT_EQ(frameStream(wire, maxLine, byteCuts(wire.size())), want) << "byte by byte";
  for (size_t k = 1; k < wire.size(); ++k) {
    EXPECT_EQ(frameStream(wire, maxLine, {k}), want) << "split at " << k;
  }
}

// Every prefix of `wire` gives NeedMore (or, for an error, the same error with consumed 0)
// until the first LF is in, and from then on exactly the whole-buffer result.
void expectPrefixesConsistent(std::string_view wire, size_t maxLine) {
  const LineFrame full = frameLine(wire, maxLine);
  const size_t lf = wire.find('\n');
  for (size_t k = 0; k <= wire.size(); ++k) {
    const GuardBuffer g(wire.substr(0, k));
    const LineFrame f = frameLine(g.view(), maxLine);
    if (lf != std::string_view::npos && k > lf) {
      EXPECT_EQ(f.status, full.status) << "prefix " << k;
      EXPECT_EQ(f.error, full.error) << "prefix " << k;
      EXPECT_EQ(f.length, full.length) << "prefix " << k;
      EXPECT_EQ(f.consumed, full.consumed) << "prefix " << k;
    } else if (f.status != ParseStatus::NeedMore) {
      EXPECT_EQ(f.status, ParseStatus::Invalid) << "prefix " << k;
      EXPECT_EQ(f.status, full.status) << "prefix " << k;
      EXPECT_EQ(f.error, full.error) << "prefix " << k;
      EXPECT_EQ(f.consumed, 0U) << "prefix " << k;
    }
  }
}

FrameEvent okLine(std::string_view text) {
  return {ParseStatus::Ok, ParseError::None, std::string(text)};
}
FrameEvent bad(ParseError e) { return {ParseStatus::Invalid, e, {}}; }

struct FrameCase {
  const char* name;
  std::string_view wire;
  size_t maxLine;
  std::vector<FrameEvent> want;
};

const std::string kOverlong = std::string(5000, 'A') + "\r\nNOOP\r\n";

const std::vector<FrameCase> kFrameCases = {
    {"Frame_CrLf", "PORT 1,2,3,4,5,6\r\n", kMaxLine, {okLine("PORT 1,2,3,4,5,6")}},
    {"Frame_BareLf", "NOOP\n", kMaxLine, {okLine("NOOP")}},
    {"Frame_TwoLinesPerSegment",
     "USER a\r\nPASS b\r\n",
     kMaxLine,
     {okLine("USER a"), okLine("PASS b")}},
    {"Frame_MixedTerminators", "A\nB\r\nC\n", kMaxLine, {okLine("A"), okLine("B"), okLine("C")}},
    {"Frame_EmptyLine", "\r\n\n", kMaxLine, {okLine(""), okLine("")}},
    {"Frame_Incomplete", "PORT 1,2,3", kMaxLine, {}},
    {"Frame_CrAtEndWaits", "PORT 1,2\r", kMaxLine, {}},
    {"Frame_BareCr",
     "PORT 1,2\r3,4\r\nNOOP\r\n",
     kMaxLine,
     {bad(ParseError::BareCr), okLine("NOOP")}},
    {"Frame_BareCrNoLf", "AB\rC", kMaxLine, {bad(ParseError::BareCr)}},
    {"Frame_CrCrLf", "AB\r\r\nNOOP\n", kMaxLine, {bad(ParseError::BareCr), okLine("NOOP")}},
    {"Frame_CrAfterLf", "A\n\rB\r\n", kMaxLine, {okLine("A"), bad(ParseError::BareCr)}},
    {"Frame_EmbeddedNul",
     "PO\0RT 1,2,3,4,5,6\r\nNOOP\r\n"sv,
     kMaxLine,
     {bad(ParseError::EmbeddedNul), okLine("NOOP")}},
    {"Frame_NulAtStart", "\0\n"sv, kMaxLine, {bad(ParseError::EmbeddedNul)}},
    {"Frame_NulNoLf", "ABC\0DEF"sv, kMaxLine, {bad(ParseError::EmbeddedNul)}},
    {"Frame_Overlong", kOverlong, kMaxLine, {bad(ParseError::LineTooLong), okLine("NOOP")}},
    {"Frame_OverlongByOne",
     "123456789\r\nNOOP\r\n",
     8,
     {bad(ParseError::LineTooLong), okLine("NOOP")}},
    {"Frame_OverlongByOneBareLf",
     "123456789\nNOOP\n",
     8,
     {bad(ParseError::LineTooLong), okLine("NOOP")}},
    {"Frame_ExactlyMaxLine", "12345678\r\n", 8, {okLine("12345678")}},
    {"Frame_ExactlyMaxLineBareLf", "12345678\n", 8, {okLine("12345678")}},
    {"Frame_OverlongNoLf", "123456789", 8, {bad(ParseError::LineTooLong)}},
    {"Frame_OverlongBareCrBeyondLimit", "123456789\rX\n", 8, {bad(ParseError::LineTooLong)}},
    {"Frame_NulBeyondLimitIsOverlong", "12345\0\n"sv, 4, {bad(ParseError::LineTooLong)}},
    {"Frame_MaxLineZero", "\nA\n", 0, {okLine(""), bad(ParseError::LineTooLong)}},
    {"Frame_HighBytesAllowed", "RETR \xc3\xa9t\xff\r\n", kMaxLine, {okLine("RETR \xc3\xa9t\xff")}},
};

void PrintTo(const FrameCase& c, std::ostream* os) { *os << c.name; }

class FtpParserFrame : public ::testing::TestWithParam<FrameCase> {};

TEST_P(FtpParserFrame, Streams) {
  const FrameCase& c = GetParam();
  expectStream(c.wire, c.maxLine, c.want);
  expectPrefixesConsistent(c.wire, c.maxLine);
}

INSTANTIATE_TEST_SUITE_P(Cases, FtpParserFrame, ::testing::ValuesIn(kFrameCases), CaseName());

TEST(FtpParserFrameValues, CrLfLengthAndConsumed) {
  const LineFrame f = frameLine("PORT 1,2,3,4,5,6\r\nNOOP\r\n", kMaxLine);
  EXPECT_EQ(f.status, ParseStatus::Ok);
  EXPECT_EQ(f.length, 16U);
  EXPECT_EQ(f.consumed, 18U);
}

TEST(FtpParserFrameValues, BareLfLengthAndConsumed) {
  const LineFrame f = frameLine("NOOP\nX", kMaxLine);
  EXPECT_EQ(f.status, ParseStatus::Ok);
  EXPECT_EQ(f.length, 4U);
  EXPECT_EQ(f.consumed, 5U);
}

TEST(FtpParserFrameValues, NeedMoreOnEmpty) {
  const LineFrame f = frameLine("", kMaxLine);
  EXPECT_EQ(f.status, ParseStatus::NeedMore);
  EXPECT_EQ(f.consumed, 0U);
}

TEST(FtpParserFrameValues, OverlongConsumesThroughLf) {
  const LineFrame f = frameLine("123456789\r\nNOOP\r\n", 8);
  EXPECT_EQ(f.status, ParseStatus::Invalid);
  EXPECT_EQ(f.error, ParseError::LineTooLong);
  EXPECT_EQ(f.consumed, 11U);
}

TEST(FtpParserFrameValues, OverlongWithoutLfConsumesNothing) {
  const LineFrame f = frameLine("123456789", 8);
  EXPECT_EQ(f.status, ParseStatus::Invalid);
  EXPECT_EQ(f.error, ParseError::LineTooLong);
  EXPECT_EQ(f.consumed, 0U);
}

TEST(FtpParserFrameValues, BareCrConsumesThroughLf) {
  const LineFrame f = frameLine("AB\rC\nNOOP\n", kMaxLine);
  EXPECT_EQ(f.status, ParseStatus::Invalid);
  EXPECT_EQ(f.error, ParseError::BareCr);
  EXPECT_EQ(f.consumed, 5U);
}

TEST(FtpParserFrameValues, NulConsumesThroughLf) {
  const LineFrame f = frameLine("A\0B\r\nNOOP\n"sv, kMaxLine);
  EXPECT_EQ(f.status, ParseStatus::Invalid);
  EXPECT_EQ(f.error, ParseError::EmbeddedNul);
  EXPECT_EQ(f.consumed, 5U);
}

}  // namespace
}  // namespace ftpalg::core
