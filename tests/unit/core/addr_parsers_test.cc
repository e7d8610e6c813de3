// Tests for src/core/addr_parsers.cc. Every parser case runs on a plain copy, from a buffer that
// ends at a PROT_NONE page, and framed inside a stream (CRLF and bare LF, two lines per segment)
// that is cut whole, byte by byte and at every split point.
#include <gtest/gtest.h>

#include <array>
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

}  // namespace
}  // namespace ftpalg::core
