// Tests for src/core/ftp_parser.cc. Every parser case runs on a plain copy, from a buffer that
// ends at a PROT_NONE page, and framed inside a stream (CRLF and bare LF, two lines per segment)
// that is cut whole, byte by byte and at every split point.
#include "ftpalg/core/ftp_parser.h"

#include <gtest/gtest.h>

#include <array>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/guard_buffer.h"

namespace ftpalg::core {

// Internal linkage: found by argument-dependent lookup, never clashes with another test file.
static void PrintTo(ParseError e, std::ostream* os) { *os << parseErrorName(e); }
static void PrintTo(ParseStatus s, std::ostream* os) {
  *os << (s == ParseStatus::Ok ? "Ok" : s == ParseStatus::NeedMore ? "NeedMore" : "Invalid");
}

namespace {

using namespace std::string_view_literals;
using test::GuardBuffer;

constexpr size_t kMaxLine = 4096;

// Names each parameterised case after its table row.
struct CaseName {
  template <class P>
  std::string operator()(const ::testing::TestParamInfo<P>& p) const {
    return p.param.name;
  }
};

// ---------------------------------------------------------------------------------------------
// Framing harness

struct FrameEvent {
  ParseStatus status = ParseStatus::NeedMore;
  ParseError error = ParseError::None;
  std::string text;  // line text for Ok
  friend bool operator==(const FrameEvent&, const FrameEvent&) = default;
};

std::ostream& operator<<(std::ostream& os, const FrameEvent& e) {
  PrintTo(e.status, &os);
  os << "/" << parseErrorName(e.error) << " \"";
  for (char c : e.text) {
    if (c >= 32 && c < 127) {
      os << c;
    } else {
      os << "\\x" << std::hex << static_cast<int>(static_cast<unsigned char>(c)) << std::dec;
    }
  }
  return os << "\"";
}

// Drives frameLine as an engine would: bytes arrive in chunks ending at `cuts`; Ok lines and
// errors with `consumed` > 0 are dropped from the pending buffer; an error with consumed == 0
// discards input through the next LF. Every frameLine call reads from a guard-page buffer.
std::vector<FrameEvent> frameStream(std::string_view wire, size_t maxLine,
                                    const std::vector<size_t>& cuts) {
  std::vector<FrameEvent> events;
  std::string pending;
  bool discarding = false;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(wire.size());
  for (size_t end : ends) {
    pending.append(wire.substr(from, end - from));
    from = end;
    while (!pending.empty()) {
      if (discarding) {
        const size_t lf = pending.find('\n');
        if (lf == std::string::npos) {
          pending.clear();
          break;
        }
        pending.erase(0, lf + 1);
        discarding = false;
        continue;
      }
      const GuardBuffer g(pending);
      const LineFrame f = frameLine(g.view(), maxLine);
      if (f.status == ParseStatus::NeedMore) {
        EXPECT_EQ(f.error, ParseError::None);
        EXPECT_EQ(f.consumed, 0U);
        break;
      }
      FrameEvent ev{f.status, f.error, {}};
      if (f.status == ParseStatus::Ok) {
        EXPECT_LE(f.length, maxLine);
        EXPECT_LE(f.length + 1, f.consumed);
        EXPECT_LE(f.consumed, f.length + 2);
        EXPECT_EQ(pending[f.consumed - 1], '\n');
        ev.text = pending.substr(0, f.length);
      }
      events.push_back(ev);
      if (f.consumed == 0) {
        EXPECT_EQ(f.status, ParseStatus::Invalid);
        EXPECT_EQ(pending.find('\n'), std::string::npos) << "consumed 0 although an LF is there";
        pending.clear();
        discarding = true;
        break;
      }
      EXPECT_LE(f.consumed, pending.size());
      pending.erase(0, f.consumed);
    }
  }
  return events;
}

std::vector<size_t> byteCuts(size_t n) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

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

// ---------------------------------------------------------------------------------------------
// Announcement parsers

using Parser = AddrParse (*)(std::string_view);

struct AddrCase {
  const char* name;
  Parser parse;
  std::string_view line;
  ParseError error;       // None: expect Ok
  std::string_view addr;  // expected address text ("" for 229)
  uint16_t port = 0;
  std::string_view span;  // expected span text
  char delim = 0;
};

constexpr ParseError kOk = ParseError::None;

AddrCase ok(const char* name, Parser p, std::string_view line, std::string_view addr, uint16_t port,
            std::string_view span, char delim = 0) {
  return {name, p, line, kOk, addr, port, span, delim};
}
AddrCase err(const char* name, Parser p, std::string_view line, ParseError e) {
  return {name, p, line, e, {}, 0, {}, 0};
}

const std::string kLongDigitPort = "PORT " + std::string(4000, '1') + ",1,1,1,1,1";
const std::string kLongDigit227 =
    "227 Entering Passive Mode (" + std::string(3000, '9') + ",1,1,1,1,1)";

const std::vector<AddrCase> kAddrCases = {
    // PORT (RFC 959)
    ok("Port_Basic", parsePort, "PORT 192,168,1,2,4,1", "192.168.1.2", 1025, "192,168,1,2,4,1"),
    ok("Port_LowercaseVerb", parsePort, "port 10,0,0,1,200,10", "10.0.0.1", 51210,
       "10,0,0,1,200,10"),
    ok("Port_MixedCaseVerb", parsePort, "PoRt 10,0,0,1,0,21", "10.0.0.1", 21, "10,0,0,1,0,21"),
    ok("Port_LeadingZeros", parsePort, "PORT 010,000,001,002,004,001", "10.0.1.2", 1025,
       "010,000,001,002,004,001"),
    ok("Port_MaxValues", parsePort, "PORT 255,255,255,255,255,255", "255.255.255.255", 65535,
       "255,255,255,255,255,255"),
    ok("Port_MinPort", parsePort, "PORT 0,0,0,0,0,1", "0.0.0.0", 1, "0,0,0,0,0,1"),
    ok("Port_TrailingSpaces", parsePort, "PORT 192,168,1,2,4,1   ", "192.168.1.2", 1025,
       "192,168,1,2,4,1"),
    err("Port_FourDigitLeadingZeros", parsePort, "PORT 0010,0,0,1,4,1", ParseError::NumberTooLong),
    err("Port_OctetAbove255", parsePort, "PORT 256,168,1,2,4,1", ParseError::OctetOutOfRange),
    err("Port_LastOctetAbove255", parsePort, "PORT 192,168,1,300,4,1", ParseError::OctetOutOfRange),
    err("Port_OctetAbove255Pasv257", parsePort, "PORT 192,168,1,257,4,1",
        ParseError::OctetOutOfRange),
    err("Port_PortHighByteAbove255", parsePort, "PORT 192,168,1,2,256,1",
        ParseError::PortOutOfRange),
    err("Port_PortLowByteAbove255", parsePort, "PORT 192,168,1,2,4,999",
        ParseError::PortOutOfRange),
    err("Port_PortZero", parsePort, "PORT 192,168,1,2,0,0", ParseError::PortOutOfRange),
    err("Port_SignRejected", parsePort, "PORT 192,168,1,2,+4,1", ParseError::BadNumber),
    err("Port_MinusSignRejected", parsePort, "PORT 192,168,-1,2,4,1", ParseError::BadNumber),
    err("Port_SpaceInsideField", parsePort, "PORT 192,168, 1,2,4,1", ParseError::BadNumber),
    err("Port_SpaceBeforeComma", parsePort, "PORT 192 ,168,1,2,4,1", ParseError::BadNumber),
    err("Port_TwoSpacesAfterVerb", parsePort, "PORT  192,168,1,2,4,1", ParseError::BadNumber),
    err("Port_VeryLongDigitString", parsePort, kLongDigitPort, ParseError::NumberTooLong),
    err("Port_Wraps32Bit", parsePort, "PORT 4294967488,168,1,2,4,1", ParseError::NumberTooLong),
    err("Port_FiveFields", parsePort, "PORT 192,168,1,2,4", ParseError::MissingField),
    err("Port_SevenFields", parsePort, "PORT 192,168,1,2,4,1,7", ParseError::TrailingGarbage),
    err("Port_EmptyField", parsePort, "PORT 192,,1,2,4,1", ParseError::BadNumber),
    err("Port_TrailingComma", parsePort, "PORT 192,168,1,2,4,1,", ParseError::TrailingGarbage),
    err("Port_TrailingText", parsePort, "PORT 192,168,1,2,4,1 x", ParseError::TrailingGarbage),
    err("Port_TrailingTab", parsePort, "PORT 192,168,1,2,4,1\t", ParseError::TrailingGarbage),
    err("Port_DottedAddress", parsePort, "PORT 192.168.1.2,4,1", ParseError::BadNumber),
    err("Port_HexNumber", parsePort, "PORT 0x10,0,0,1,4,1", ParseError::BadNumber),
    err("Port_TabAfterVerb", parsePort, "PORT\t192,168,1,2,4,1", ParseError::MissingField),
    err("Port_NoArgument", parsePort, "PORT", ParseError::MissingField),
    err("Port_EmptyArgument", parsePort, "PORT ", ParseError::MissingField),
    err("Port_WrongVerb", parsePort, "EPRT 1,2,3,4,5,6", ParseError::MissingField),
    err("Port_LeadingSpace", parsePort, " PORT 192,168,1,2,4,1", ParseError::MissingField),

    // EPRT (RFC 2428)
    ok("Eprt_FamilyV4", parseEprt, "EPRT |1|132.235.1.2|6275|", "132.235.1.2", 6275,
       "|1|132.235.1.2|6275|", '|'),
    ok("Eprt_FamilyV6", parseEprt, "EPRT |2|1080::8:800:200C:417A|5282|", "1080::8:800:200c:417a",
       5282, "|2|1080::8:800:200C:417A|5282|", '|'),
    ok("Eprt_LowercaseVerb", parseEprt, "eprt |1|10.0.0.1|5000|", "10.0.0.1", 5000,
       "|1|10.0.0.1|5000|", '|'),
    ok("Eprt_OddDelimiter", parseEprt, "EPRT !1!10.0.0.1!5000!", "10.0.0.1", 5000,
       "!1!10.0.0.1!5000!", '!'),
    ok("Eprt_TildeDelimiterV6", parseEprt, "EPRT ~2~::1~5000~", "::1", 5000, "~2~::1~5000~", '~'),
    ok("Eprt_LetterDelimiter", parseEprt, "EPRT z1z10.0.0.1z5000z", "10.0.0.1", 5000,
       "z1z10.0.0.1z5000z", 'z'),
    ok("Eprt_V6Mapped", parseEprt, "EPRT |2|::ffff:10.0.0.1|5000|", "::ffff:10.0.0.1", 5000,
       "|2|::ffff:10.0.0.1|5000|", '|'),
    ok("Eprt_PortLeadingZeros", parseEprt, "EPRT |1|10.0.0.1|05000|", "10.0.0.1", 5000,
       "|1|10.0.0.1|05000|", '|'),
    ok("Eprt_PortMax", parseEprt, "EPRT |1|10.0.0.1|65535|", "10.0.0.1", 65535,
       "|1|10.0.0.1|65535|", '|'),
    ok("Eprt_TrailingSpaces", parseEprt, "EPRT |1|10.0.0.1|5000|  ", "10.0.0.1", 5000,
       "|1|10.0.0.1|5000|", '|'),
    err("Eprt_MixedDelimiters", parseEprt, "EPRT |1|10.0.0.1!5000!", ParseError::BadDelimiter),
    err("Eprt_MixedDelimiterAtEnd", parseEprt, "EPRT |1|10.0.0.1|5000!", ParseError::BadDelimiter),
    err("Eprt_MixedDelimiterAfterFamily", parseEprt, "EPRT |1!10.0.0.1!5000!",
        ParseError::BadDelimiter),
    err("Eprt_SpaceDelimiter", parseEprt, "EPRT  1 10.0.0.1 5000 ", ParseError::BadDelimiter),
    err("Eprt_DigitDelimiter", parseEprt, "EPRT 515.6.7.851234", ParseError::BadDelimiter),
    err("Eprt_DelDelimiter", parseEprt,
        "EPRT \x7f"
        "1\x7f"
        "10.0.0.1\x7f"
        "5000\x7f",
        ParseError::BadDelimiter),
    err("Eprt_HighByteDelimiter", parseEprt,
        "EPRT \xa6"
        "1\xa6"
        "10.0.0.1\xa6"
        "5000\xa6",
        ParseError::BadDelimiter),
    err("Eprt_UnknownFamily", parseEprt, "EPRT |3|10.0.0.1|5000|", ParseError::UnknownFamily),
    err("Eprt_FamilyZeroPadded", parseEprt, "EPRT |01|10.0.0.1|5000|", ParseError::UnknownFamily),
    err("Eprt_FamilyMissing", parseEprt, "EPRT ||10.0.0.1|5000|", ParseError::BadNumber),
    err("Eprt_V4FamilyWithV6Address", parseEprt, "EPRT |1|::1|5000|", ParseError::BadAddress),
    err("Eprt_V6FamilyWithV4Address", parseEprt, "EPRT |2|10.0.0.1|5000|", ParseError::BadAddress),
    err("Eprt_OctetAbove255", parseEprt, "EPRT |1|10.0.0.256|5000|", ParseError::BadAddress),
    err("Eprt_OctalLookingOctet", parseEprt, "EPRT |1|010.0.0.1|5000|", ParseError::BadAddress),
    err("Eprt_ShortDottedQuad", parseEprt, "EPRT |1|10.1|5000|", ParseError::BadAddress),
    err("Eprt_V6ZoneIndex", parseEprt, "EPRT |2|fe80::1%eth0|5000|", ParseError::BadAddress),
    err("Eprt_HostName", parseEprt, "EPRT |1|ftp.example.com|5000|", ParseError::BadAddress),
    err("Eprt_EmptyAddress", parseEprt, "EPRT |1||5000|", ParseError::BadAddress),
    err("Eprt_PortZero", parseEprt, "EPRT |1|10.0.0.1|0|", ParseError::PortOutOfRange),
    err("Eprt_PortAbove65535", parseEprt, "EPRT |1|10.0.0.1|65536|", ParseError::PortOutOfRange),
    err("Eprt_PortTooManyDigits", parseEprt, "EPRT |1|10.0.0.1|000080|", ParseError::NumberTooLong),
    err("Eprt_PortSign", parseEprt, "EPRT |1|10.0.0.1|+5000|", ParseError::BadNumber),
    err("Eprt_PortSpace", parseEprt, "EPRT |1|10.0.0.1| 5000|", ParseError::BadNumber),
    err("Eprt_PortEmpty", parseEprt, "EPRT |1|10.0.0.1||", ParseError::BadNumber),
    err("Eprt_MissingFinalDelimiter", parseEprt, "EPRT |1|10.0.0.1|5000", ParseError::MissingField),
    err("Eprt_Truncated", parseEprt, "EPRT |1|10.0.0", ParseError::MissingField),
    err("Eprt_TrailingGarbage", parseEprt, "EPRT |1|10.0.0.1|5000|x", ParseError::TrailingGarbage),
    err("Eprt_ExtraField", parseEprt, "EPRT |1|10.0.0.1|5000|6000|", ParseError::TrailingGarbage),
    err("Eprt_NoArgument", parseEprt, "EPRT", ParseError::MissingField),
    err("Eprt_DelimiterOnly", parseEprt, "EPRT |", ParseError::BadNumber),

    // LPRT (RFC 1639)
    ok("Lprt_V4", parseLprt, "LPRT 4,4,132,235,1,2,2,24,131", "132.235.1.2", 6275,
       "4,4,132,235,1,2,2,24,131"),
    ok("Lprt_V6", parseLprt, "LPRT 6,16,16,128,0,0,0,0,0,0,0,8,8,0,32,12,65,122,2,20,162",
       "1080::8:800:200c:417a", 5282, "6,16,16,128,0,0,0,0,0,0,0,8,8,0,32,12,65,122,2,20,162"),
    ok("Lprt_LowercaseVerb", parseLprt, "lprt 4,4,10,0,0,1,2,4,1", "10.0.0.1", 1025,
       "4,4,10,0,0,1,2,4,1"),
    ok("Lprt_TrailingSpaces", parseLprt, "LPRT 4,4,10,0,0,1,2,4,1 ", "10.0.0.1", 1025,
       "4,4,10,0,0,1,2,4,1"),
    err("Lprt_UnknownFamily", parseLprt, "LPRT 5,4,10,0,0,1,2,4,1", ParseError::UnknownFamily),
    err("Lprt_V4WrongAddressLength", parseLprt, "LPRT 4,16,10,0,0,1,2,4,1", ParseError::BadAddress),
    err("Lprt_V6WrongAddressLength", parseLprt, "LPRT 6,4,10,0,0,1,2,4,1", ParseError::BadAddress),
    err("Lprt_PortLengthNotTwo", parseLprt, "LPRT 4,4,10,0,0,1,3,0,4,1",
        ParseError::PortOutOfRange),
    err("Lprt_TooFewBytes", parseLprt, "LPRT 4,4,10,0,0", ParseError::MissingField),
    err("Lprt_TooManyBytes", parseLprt, "LPRT 4,4,10,0,0,1,2,4,1,7", ParseError::TrailingGarbage),
    err("Lprt_OctetAbove255", parseLprt, "LPRT 4,4,10,0,0,256,2,4,1", ParseError::OctetOutOfRange),
    err("Lprt_PortByteAbove255", parseLprt, "LPRT 4,4,10,0,0,1,2,4,256",
        ParseError::PortOutOfRange),
    err("Lprt_PortZero", parseLprt, "LPRT 4,4,10,0,0,1,2,0,0", ParseError::PortOutOfRange),
    err("Lprt_NumberTooLong", parseLprt, "LPRT 0004,4,10,0,0,1,2,4,1", ParseError::NumberTooLong),
    err("Lprt_SpaceInsideField", parseLprt, "LPRT 4, 4,10,0,0,1,2,4,1", ParseError::BadNumber),
    err("Lprt_NoArgument", parseLprt, "LPRT", ParseError::MissingField),

    // 227 (RFC 959 PASV reply)
    ok("Pasv227_Standard", parse227, "227 Entering Passive Mode (192,168,1,2,4,1).", "192.168.1.2",
       1025, "192,168,1,2,4,1"),
    ok("Pasv227_NoParentheses", parse227, "227 Entering Passive Mode 192,168,1,2,4,1",
       "192.168.1.2", 1025, "192,168,1,2,4,1"),
    ok("Pasv227_AddressAnywhere", parse227, "227 =192,168,1,2,4,1", "192.168.1.2", 1025,
       "192,168,1,2,4,1"),
    ok("Pasv227_AddressFirst", parse227, "227 192,168,1,2,4,1 is where to go", "192.168.1.2", 1025,
       "192,168,1,2,4,1"),
    ok("Pasv227_LeadingZeros", parse227, "227 Entering Passive Mode (010,000,000,001,004,001)",
       "10.0.0.1", 1025, "010,000,000,001,004,001"),
    ok("Pasv227_SevenNumbersThenValid", parse227, "227 (1,2,3,4,5,6,7) or (10,0,0,1,4,1)",
       "10.0.0.1", 1025, "10,0,0,1,4,1"),
    ok("Pasv227_InvalidThenValid", parse227, "227 (300,1,1,1,1,1) or (10,0,0,1,4,1)", "10.0.0.1",
       1025, "10,0,0,1,4,1"),
    ok("Pasv227_DigitsBeforeAddress", parse227, "227 Mode 2 since 2024 (10,0,0,1,4,1)", "10.0.0.1",
       1025, "10,0,0,1,4,1"),
    ok("Pasv227_ContinuationLine", parse227, " (192,168,1,2,4,1)", "192.168.1.2", 1025,
       "192,168,1,2,4,1"),
    ok("Pasv227_MultiLineFirst", parse227, "227-Entering Passive Mode (10,1,2,3,4,5)", "10.1.2.3",
       1029, "10,1,2,3,4,5"),
    ok("Pasv227_CodeDashThenAddress", parse227, "227-10,1,2,3,4,5", "10.1.2.3", 1029,
       "10,1,2,3,4,5"),
    ok("Pasv227_TextAfterNumbers", parse227, "227 (10,0,0,1,4,1.5)", "10.0.0.1", 1025,
       "10,0,0,1,4,1"),
    err("Pasv227_SevenNumbers", parse227, "227 Entering Passive Mode (1,192,168,1,2,4,1)",
        ParseError::TrailingGarbage),
    err("Pasv227_FiveNumbers", parse227, "227 Entering Passive Mode (192,168,1,2,4)",
        ParseError::MissingField),
    err("Pasv227_OctetAbove255", parse227, "227 Entering Passive Mode (192,168,1,256,4,1)",
        ParseError::OctetOutOfRange),
    err("Pasv227_Pasv257", parse227, "227 Entering Passive Mode (192,168,1,257,4,1)",
        ParseError::OctetOutOfRange),
    err("Pasv227_PortByteAbove255", parse227, "227 Entering Passive Mode (192,168,1,2,256,1)",
        ParseError::PortOutOfRange),
    err("Pasv227_PortZero", parse227, "227 Entering Passive Mode (192,168,1,2,0,0)",
        ParseError::PortOutOfRange),
    err("Pasv227_NumberTooLong", parse227, "227 Entering Passive Mode (192,168,1,2,4,0001)",
        ParseError::NumberTooLong),
    err("Pasv227_VeryLongDigitString", parse227, kLongDigit227, ParseError::NumberTooLong),
    err("Pasv227_NoNumbers", parse227, "227 Entering Passive Mode", ParseError::NoAddress),
    err("Pasv227_CodeOnly", parse227, "227", ParseError::NoAddress),
    err("Pasv227_Empty", parse227, "", ParseError::NoAddress),
    err("Pasv227_SpacesInsideGroup", parse227, "227 Entering Passive Mode (192, 168, 1, 2, 4, 1)",
        ParseError::MissingField),
    err("Pasv227_NegativeNumber", parse227, "227 Entering Passive Mode (-192,168,1,2,4,1)",
        ParseError::BadNumber),
    err("Pasv227_PlusSign", parse227, "227 Entering Passive Mode (+192,168,1,2,4,1)",
        ParseError::BadNumber),
    err("Pasv227_DottedAddress", parse227, "227 Entering Passive Mode (192.168.1.2:1025)",
        ParseError::MissingField),

    // 229 (RFC 2428 EPSV reply)
    ok("Epsv229_Standard", parse229, "229 Entering Extended Passive Mode (|||6446|)", "", 6446,
       "|||6446|", '|'),
    ok("Epsv229_BangDelimiter", parse229, "229 Entering Extended Passive Mode (!!!6446!)", "", 6446,
       "!!!6446!", '!'),
    ok("Epsv229_TextAfter", parse229, "229 Entering Extended Passive Mode (|||6446|).", "", 6446,
       "|||6446|", '|'),
    ok("Epsv229_SecondParenthesis", parse229, "229 EPSV ok (mode) (|||6446|)", "", 6446, "|||6446|",
       '|'),
    ok("Epsv229_PortMax", parse229, "229 (|||65535|)", "", 65535, "|||65535|", '|'),
    ok("Epsv229_PortLeadingZeros", parse229, "229 (|||00021|)", "", 21, "|||00021|", '|'),
    ok("Epsv229_MultiLineFirst", parse229, "229-Entering Extended Passive Mode (|||6446|)", "",
       6446, "|||6446|", '|'),
    err("Epsv229_AddressFieldNotEmpty", parse229,
        "229 Entering Extended Passive Mode (|1|10.0.0.1|6446|)", ParseError::BadAddress),
    err("Epsv229_AddressOnlyNotEmpty", parse229,
        "229 Entering Extended Passive Mode (||10.0.0.1|6446|)", ParseError::BadAddress),
    err("Epsv229_MixedDelimiters", parse229, "229 Entering Extended Passive Mode (|||6446!)",
        ParseError::BadDelimiter),
    err("Epsv229_MixedLeadingDelimiters", parse229, "229 Entering Extended Passive Mode (||!6446|)",
        ParseError::BadDelimiter),
    err("Epsv229_DigitDelimiter", parse229, "229 Entering Extended Passive Mode (55564465)",
        ParseError::BadDelimiter),
    err("Epsv229_SpaceDelimiter", parse229, "229 Entering Extended Passive Mode (   6446 )",
        ParseError::BadDelimiter),
    err("Epsv229_PortZero", parse229, "229 Entering Extended Passive Mode (|||0|)",
        ParseError::PortOutOfRange),
    err("Epsv229_PortAbove65535", parse229, "229 Entering Extended Passive Mode (|||65536|)",
        ParseError::PortOutOfRange),
    err("Epsv229_PortTooManyDigits", parse229, "229 Entering Extended Passive Mode (|||006446|)",
        ParseError::NumberTooLong),
    err("Epsv229_SignedPort", parse229, "229 Entering Extended Passive Mode (|||+6446|)",
        ParseError::BadNumber),
    err("Epsv229_EmptyPort", parse229, "229 Entering Extended Passive Mode (||||)",
        ParseError::BadNumber),
    err("Epsv229_NoParentheses", parse229, "229 Entering Extended Passive Mode |||6446|",
        ParseError::NoAddress),
    err("Epsv229_MissingCloseParenthesis", parse229, "229 Entering Extended Passive Mode (|||6446|",
        ParseError::MissingField),
    err("Epsv229_GarbageBeforeCloseParenthesis", parse229,
        "229 Entering Extended Passive Mode (|||6446|x)", ParseError::TrailingGarbage),
    err("Epsv229_Truncated", parse229, "229 Entering Extended Passive Mode (|||64",
        ParseError::MissingField),
    err("Epsv229_OpenParenthesisAtEnd", parse229, "229 Entering Extended Passive Mode (",
        ParseError::MissingField),

    // 228 (RFC 1639 LPSV reply)
    ok("Lpsv228_V4", parse228, "228 Entering Long Passive Mode (4,4,1,2,3,4,2,24,131)", "1.2.3.4",
       6275, "4,4,1,2,3,4,2,24,131"),
    ok("Lpsv228_NoParentheses", parse228, "228 Entering Long Passive Mode 4,4,1,2,3,4,2,24,131",
       "1.2.3.4", 6275, "4,4,1,2,3,4,2,24,131"),
    ok("Lpsv228_V6", parse228,
       "228 Entering Long Passive Mode (6,16,32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1)",
       "2001:db8::1", 1025, "6,16,32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1"),
    ok("Lpsv228_ExtraGroupThenValid", parse228, "228 (4,4,1,2,3,4,2,24,131,1) (4,4,1,2,3,4,2,4,1)",
       "1.2.3.4", 1025, "4,4,1,2,3,4,2,4,1"),
    err("Lpsv228_UnknownFamily", parse228, "228 Entering Long Passive Mode (5,4,1,2,3,4,2,24,131)",
        ParseError::UnknownFamily),
    err("Lpsv228_ExtraNumbers", parse228, "228 Entering Long Passive Mode (4,4,1,2,3,4,2,24,131,1)",
        ParseError::TrailingGarbage),
    err("Lpsv228_TooFewNumbers", parse228, "228 Entering Long Passive Mode (4,4,1,2,3,4,2,24)",
        ParseError::MissingField),
    err("Lpsv228_OctetAbove255", parse228,
        "228 Entering Long Passive Mode (4,4,1,2,3,400,2,24,131)", ParseError::OctetOutOfRange),
    err("Lpsv228_PortZero", parse228, "228 Entering Long Passive Mode (4,4,1,2,3,4,2,0,0)",
        ParseError::PortOutOfRange),
    err("Lpsv228_NoAddress", parse228, "228 Entering Long Passive Mode", ParseError::NoAddress),
};

void expectAddrResult(const AddrCase& c, std::string_view line, const AddrParse& r,
                      const char* where) {
  SCOPED_TRACE(where);
  if (c.error != kOk) {
    EXPECT_EQ(r.status, ParseStatus::Invalid);
    EXPECT_EQ(r.error, c.error);
    return;
  }
  ASSERT_EQ(r.status, ParseStatus::Ok) << parseErrorName(r.error);
  EXPECT_EQ(r.error, ParseError::None);
  EXPECT_EQ(r.ep.port, c.port);
  if (c.addr.empty()) {
    EXPECT_FALSE(r.hasAddr);
    EXPECT_EQ(r.ep.addr.family, Family::None);
  } else {
    EXPECT_TRUE(r.hasAddr);
    IpAddr want;
    ASSERT_TRUE(parseIp(c.addr, want)) << c.addr;
    EXPECT_EQ(r.ep.addr, want);
  }
  ASSERT_LE(size_t{r.span.offset} + r.span.length, line.size());
  EXPECT_EQ(line.substr(r.span.offset, r.span.length), c.span);
  EXPECT_EQ(r.delim, c.delim);
}

void PrintTo(const AddrCase& c, std::ostream* os) { *os << c.name; }

class FtpParserAddr : public ::testing::TestWithParam<AddrCase> {};

TEST_P(FtpParserAddr, Parses) {
  const AddrCase& c = GetParam();
  {
    const std::string copy(c.line);
    expectAddrResult(c, copy, c.parse(copy), "plain copy");
  }
  {
    const GuardBuffer g(c.line);
    expectAddrResult(c, g.view(), c.parse(g.view()), "guard page");
  }
  // Framed in a stream: CRLF and LF, two lines per segment, whole / byte by byte / every split.
  for (std::string_view term : {"\r\n"sv, "\n"sv}) {
    const std::string wire =
        std::string(c.line) + std::string(term) + std::string(c.line) + std::string(term);
    std::vector<std::vector<size_t>> cutSets = {{}, byteCuts(wire.size())};
    for (size_t k = 1; k < wire.size(); ++k) cutSets.push_back({k});
    for (const auto& cuts : cutSets) {
      const std::vector<FrameEvent> events = frameStream(wire, kMaxLine, cuts);
      ASSERT_EQ(events.size(), 2U);
      for (const FrameEvent& ev : events) {
        ASSERT_EQ(ev.status, ParseStatus::Ok);
        ASSERT_EQ(ev.text, c.line);
        const GuardBuffer g(ev.text);
        expectAddrResult(c, g.view(), c.parse(g.view()), "framed");
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FtpParserAddr, ::testing::ValuesIn(kAddrCases), CaseName());

// A successful parse's span, formatted back from the endpoint, must parse to the same endpoint.
TEST(FtpParserAddrProperties, SpanRewriteRoundTrips) {
  for (const AddrCase& c : kAddrCases) {
    if (c.error != kOk) continue;
    SCOPED_TRACE(c.name);
    const AddrParse r = c.parse(c.line);
    ASSERT_EQ(r.status, ParseStatus::Ok);
    std::array<char, 80> text{};
    size_t n = 0;
    if (c.parse == parsePort || c.parse == parse227) n = formatPortText(r.ep, text);
    if (c.parse == parseEprt) n = formatEprtText(r.ep, r.delim, text);
    if (c.parse == parseLprt || c.parse == parse228) n = formatLongText(r.ep, text);
    if (c.parse == parse229) n = format229Text(r.ep.port, r.delim, text);
    ASSERT_GT(n, 0U);
    std::string spliced(c.line);
    spliced.replace(r.span.offset, r.span.length, text.data(), n);
    const GuardBuffer g(spliced);
    const AddrParse again = c.parse(g.view());
    ASSERT_EQ(again.status, ParseStatus::Ok) << spliced;
    EXPECT_EQ(again.ep, r.ep);
    EXPECT_EQ(again.hasAddr, r.hasAddr);
    EXPECT_EQ(again.delim, r.delim);
    EXPECT_EQ(g.view().substr(again.span.offset, again.span.length),
              std::string_view(text.data(), n));
  }
}

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

// Every prefix of every announcing line in the tables must be held.
TEST(FtpParserMayBeProperties, EveryPrefixOfAnAnnouncementIsHeld) {
  for (const AddrCase& c : kAddrCases) {
    const Verb v = classifyCommand(c.line).verb;
    const bool command = v == Verb::Port || v == Verb::Eprt || v == Verb::Lprt;
    ReplyTracker t;
    const ReplyLine rl = trackReply(t, c.line);
    const bool reply = rl.status == ParseStatus::Ok && rl.code >= 227 && rl.code <= 229;
    for (size_t k = 0; k <= c.line.size(); ++k) {
      const std::string_view p = c.line.substr(0, k);
      if (command) {
        EXPECT_TRUE(mayBeAnnouncingCommand(p)) << c.name << " prefix " << k;
      }
      if (reply) {
        EXPECT_TRUE(mayBeAnnouncingReply(p, false, 0)) << c.name << " prefix " << k;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------------------------
// Formatters

Endpoint v4Ep(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  return Endpoint{IpAddr::v4(a, b, c, d), port};
}
Endpoint v6Ep(std::string_view text, uint16_t port) {
  Endpoint e;
  EXPECT_TRUE(parseIp(text, e.addr));
  e.port = port;
  return e;
}

std::string fmt(size_t (*f)(const Endpoint&, std::span<char>), const Endpoint& ep) {
  std::array<char, 128> buf{};
  return std::string(buf.data(), f(ep, buf));
}

TEST(FtpParserFormat, PortText) {
  EXPECT_EQ(fmt(formatPortText, v4Ep(192, 168, 1, 2, 1025)), "192,168,1,2,4,1");
}

TEST(FtpParserFormat, PortTextWorstCaseFitsDocumentedSize) {
  std::array<char, 24> buf{};
  EXPECT_EQ(formatPortText(v4Ep(255, 255, 255, 255, 65535), buf), 23U);
}

TEST(FtpParserFormat, PortTextTooSmall) {
  std::array<char, 10> buf{};
  EXPECT_EQ(formatPortText(v4Ep(192, 168, 1, 2, 1025), buf), 0U);
}

TEST(FtpParserFormat, PortTextRejectsV6AndPortZero) {
  EXPECT_EQ(fmt(formatPortText, v6Ep("::1", 21)), "");
  EXPECT_EQ(fmt(formatPortText, v4Ep(1, 2, 3, 4, 0)), "");
}

TEST(FtpParserFormat, EprtText) {
  std::array<char, 64> buf{};
  EXPECT_EQ(std::string(buf.data(), formatEprtText(v4Ep(192, 168, 1, 2, 1025), '|', buf)),
            "|1|192.168.1.2|1025|");
  EXPECT_EQ(std::string(buf.data(), formatEprtText(v6Ep("2001:db8::1", 1025), '!', buf)),
            "!2!2001:db8::1!1025!");
}

TEST(FtpParserFormat, EprtTextWorstCaseFitsDocumentedSize) {
  std::array<char, 64> buf{};
  EXPECT_GT(formatEprtText(v6Ep("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), '|', buf), 0U);
  EXPECT_GT(formatEprtText(v6Ep("::ffff:255.255.255.255", 65535), '|', buf), 0U);
}

TEST(FtpParserFormat, EprtTextRefusesDelimiterInsideAddress) {
  std::array<char, 64> buf{};
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 5), '.', buf), 0U);
  EXPECT_EQ(formatEprtText(v6Ep("2001:db8::1", 5), ':', buf), 0U);
  EXPECT_EQ(formatEprtText(v6Ep("2001:db8::a", 5), 'a', buf), 0U);
}

TEST(FtpParserFormat, EprtTextRefusesBadDelimiterOrPort) {
  std::array<char, 64> buf{};
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 5), ' ', buf), 0U);
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 5), '7', buf), 0U);
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 5), '\x7f', buf), 0U);
  EXPECT_EQ(formatEprtText(v4Ep(1, 2, 3, 4, 0), '|', buf), 0U);
  EXPECT_EQ(formatEprtText(Endpoint{}, '|', buf), 0U);
}

TEST(FtpParserFormat, Text229) {
  std::array<char, 12> buf{};
  EXPECT_EQ(std::string(buf.data(), format229Text(1025, '|', buf)), "|||1025|");
  EXPECT_EQ(std::string(buf.data(), format229Text(65535, '!', buf)), "!!!65535!");
  EXPECT_EQ(format229Text(0, '|', buf), 0U);
  EXPECT_EQ(format229Text(21, '1', buf), 0U);
  std::array<char, 4> small{};
  EXPECT_EQ(format229Text(21, '|', small), 0U);
}

TEST(FtpParserFormat, LongText) {
  EXPECT_EQ(fmt(formatLongText, v4Ep(1, 2, 3, 4, 1025)), "4,4,1,2,3,4,2,4,1");
  EXPECT_EQ(fmt(formatLongText, v6Ep("2001:db8::1", 1025)),
            "6,16,32,1,13,184,0,0,0,0,0,0,0,0,0,0,0,1,2,4,1");
  std::array<char, 80> buf{};
  EXPECT_GT(formatLongText(v6Ep("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535), buf), 0U);
  EXPECT_EQ(formatLongText(v4Ep(1, 2, 3, 4, 0), buf), 0U);
}

TEST(FtpParserFormat, EveryFormatReparsesToTheSameEndpoint) {
  const std::vector<Endpoint> eps = {v4Ep(0, 0, 0, 0, 1),
                                     v4Ep(255, 255, 255, 255, 65535),
                                     v4Ep(10, 0, 0, 1, 256),
                                     v4Ep(192, 168, 1, 2, 1025),
                                     v6Ep("::", 1),
                                     v6Ep("::1", 21),
                                     v6Ep("2001:db8::1", 6446),
                                     v6Ep("::ffff:1.2.3.4", 80),
                                     v6Ep("fe80::abcd", 65535),
                                     v6Ep("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1)};
  for (const Endpoint& ep : eps) {
    std::array<char, 80> buf{};
    if (ep.addr.family == Family::V4) {
      const size_t n = formatPortText(ep, buf);
      const std::string port = "PORT " + std::string(buf.data(), n);
      EXPECT_EQ(parsePort(port).ep, ep) << port;
      const std::string pasv = "227 Entering Passive Mode (" + std::string(buf.data(), n) + ").";
      EXPECT_EQ(parse227(pasv).ep, ep) << pasv;
    }
    for (char d : {'|', '!', '~', '#', 'z'}) {
      const size_t n = formatEprtText(ep, d, buf);
      if (n == 0) continue;
      const std::string eprt = "EPRT " + std::string(buf.data(), n);
      const AddrParse r = parseEprt(eprt);
      EXPECT_EQ(r.status, ParseStatus::Ok) << eprt;
      EXPECT_EQ(r.ep, ep) << eprt;
      EXPECT_EQ(r.delim, d);
      const std::string epsv = "229 Entering Extended Passive Mode (" +
                               std::string(buf.data(), format229Text(ep.port, d, buf)) + ")";
      EXPECT_EQ(parse229(epsv).ep.port, ep.port) << epsv;
    }
    const size_t n = formatLongText(ep, buf);
    const std::string lprt = "LPRT " + std::string(buf.data(), n);
    EXPECT_EQ(parseLprt(lprt).ep, ep) << lprt;
    const std::string lpsv = "228 Entering Long Passive Mode (" + std::string(buf.data(), n) + ")";
    EXPECT_EQ(parse228(lpsv).ep, ep) << lpsv;
  }
}

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
