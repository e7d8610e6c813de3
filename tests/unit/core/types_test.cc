// Tests for src/core/types.cc: RFC 5952 formatting and strict address parsing. Every parse runs
// from a buffer that ends at a PROT_NONE page.
#include "ftpalg/core/types.h"

#include <gtest/gtest.h>

#include <array>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/guard_buffer.h"

namespace ftpalg::core {
namespace {

using test::GuardBuffer;

// Names each parameterised case after its table row.
struct CaseName {
  template <class P>
  std::string operator()(const ::testing::TestParamInfo<P>& p) const {
    return p.param.name;
  }
};

std::array<uint8_t, 16> v6Bytes(std::initializer_list<uint16_t> groups) {
  std::array<uint8_t, 16> b{};
  size_t i = 0;
  for (uint16_t g : groups) {
    b[i++] = static_cast<uint8_t>(g >> 8);
    b[i++] = static_cast<uint8_t>(g & 0xff);
  }
  return b;
}

std::string formatted(const IpAddr& a) {
  std::array<char, 46> buf{};
  return std::string(buf.data(), formatIp(a, buf));
}

bool parseGuarded(std::string_view text, IpAddr& out) {
  const GuardBuffer g(text);
  return parseIp(g.view(), out);
}

struct FormatCase {
  const char* name;
  IpAddr addr;
  std::string_view want;
};

const std::vector<FormatCase> kFormatCases = {
    {"V4", IpAddr::v4(192, 168, 1, 2), "192.168.1.2"},
    {"V4Zero", IpAddr::v4(0, 0, 0, 0), "0.0.0.0"},
    {"V4Max", IpAddr::v4(255, 255, 255, 255), "255.255.255.255"},
    {"V6Compress", IpAddr::v6(v6Bytes({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})), "2001:db8::1"},
    {"V6AllZero", IpAddr::v6(v6Bytes({})), "::"},
    {"V6Loopback", IpAddr::v6(v6Bytes({0, 0, 0, 0, 0, 0, 0, 1})), "::1"},
    {"V6TrailingRun", IpAddr::v6(v6Bytes({1, 0, 0, 0, 0, 0, 0, 0})), "1::"},
    {"V6LongestRunWins", IpAddr::v6(v6Bytes({0x2001, 0, 0, 1, 0, 0, 0, 1})), "2001:0:0:1::1"},
    {"V6FirstRunOnTie", IpAddr::v6(v6Bytes({0x2001, 0xdb8, 0, 0, 1, 0, 0, 1})),
     "2001:db8::1:0:0:1"},
    {"V6SingleZeroNotCompressed", IpAddr::v6(v6Bytes({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1})),
     "2001:db8:0:1:1:1:1:1"},
    {"V6Lowercase", IpAddr::v6(v6Bytes({0x2001, 0xdb8, 0, 0, 0, 0, 0xabcd, 0xef01})),
     "2001:db8::abcd:ef01"},
    {"V6NoLeadingZeros", IpAddr::v6(v6Bytes({0x2001, 0x0db8, 0x00a0, 0, 0, 0, 0, 0x000f})),
     "2001:db8:a0::f"},
    {"V6Full",
     IpAddr::v6(v6Bytes({0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff})),
     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"V6Mapped", IpAddr::v6(v6Bytes({0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304})), "::ffff:1.2.3.4"},
    {"V6MappedMax", IpAddr::v6(v6Bytes({0, 0, 0, 0, 0, 0xffff, 0xffff, 0xffff})),
     "::ffff:255.255.255.255"},
    {"V6NotMappedPrefix", IpAddr::v6(v6Bytes({0, 0, 0, 0, 1, 0xffff, 0x0102, 0x0304})),
     "::1:ffff:102:304"},
    {"V6RunInMiddle", IpAddr::v6(v6Bytes({1, 2, 0, 0, 0, 6, 7, 8})), "1:2::6:7:8"},
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.name; }

class TypesFormatIp : public ::testing::TestWithParam<FormatCase> {};

TEST_P(TypesFormatIp, FormatsAndReparses) {
  const FormatCase& c = GetParam();
  EXPECT_EQ(formatted(c.addr), c.want);
  IpAddr back;
  ASSERT_TRUE(parseGuarded(c.want, back));
  EXPECT_EQ(back, c.addr);
}

INSTANTIATE_TEST_SUITE_P(Cases, TypesFormatIp, ::testing::ValuesIn(kFormatCases), CaseName());

TEST(TypesFormat, NoneFamilyGivesNothing) { EXPECT_EQ(formatted(IpAddr{}), ""); }

TEST(TypesFormat, TooSmallBufferGivesNothing) {
  std::array<char, 6> buf{};
  EXPECT_EQ(formatIp(IpAddr::v4(192, 168, 1, 2), buf), 0U);
  std::array<char, 11> exact{};
  EXPECT_EQ(formatIp(IpAddr::v4(192, 168, 1, 2), exact), 11U);
}

TEST(TypesFormat, EndpointV4) {
  std::array<char, 54> buf{};
  const Endpoint e{IpAddr::v4(1, 2, 3, 4), 21};
  EXPECT_EQ(std::string(buf.data(), formatEndpoint(e, buf)), "1.2.3.4:21");
}

TEST(TypesFormat, EndpointV6Bracketed) {
  std::array<char, 54> buf{};
  const Endpoint e{IpAddr::v6(v6Bytes({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})), 21};
  EXPECT_EQ(std::string(buf.data(), formatEndpoint(e, buf)), "[2001:db8::1]:21");
}

TEST(TypesFormat, EndpointWorstCaseFitsDocumentedSize) {
  std::array<char, 54> buf{};
  const Endpoint e{
      IpAddr::v6(v6Bytes({0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff})), 65535};
  EXPECT_EQ(std::string(buf.data(), formatEndpoint(e, buf)),
            "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

TEST(TypesFormat, EndpointNoneAndTooSmall) {
  std::array<char, 54> buf{};
  EXPECT_EQ(formatEndpoint(Endpoint{}, buf), 0U);
  std::array<char, 5> small{};
  EXPECT_EQ(formatEndpoint(Endpoint{IpAddr::v4(1, 2, 3, 4), 21}, small), 0U);
}

struct ParseCase {
  const char* name;
  std::string_view text;
  bool valid;
  IpAddr want;
};

const std::vector<ParseCase> kParseCases = {
    {"V4", "10.0.0.1", true, IpAddr::v4(10, 0, 0, 1)},
    {"V4Zero", "0.0.0.0", true, IpAddr::v4(0, 0, 0, 0)},
    {"V4Max", "255.255.255.255", true, IpAddr::v4(255, 255, 255, 255)},
    {"V6Unspecified", "::", true, IpAddr::v6(v6Bytes({}))},
    {"V6Loopback", "::1", true, IpAddr::v6(v6Bytes({0, 0, 0, 0, 0, 0, 0, 1}))},
    {"V6TrailingGap", "1::", true, IpAddr::v6(v6Bytes({1}))},
    {"V6Uppercase", "2001:DB8::1", true, IpAddr::v6(v6Bytes({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}))},
    {"V6Full", "1:2:3:4:5:6:7:8", true, IpAddr::v6(v6Bytes({1, 2, 3, 4, 5, 6, 7, 8}))},
    {"V6LeadingZeros", "0001:0002:0003:0004:0005:0006:0007:0008", true,
     IpAddr::v6(v6Bytes({1, 2, 3, 4, 5, 6, 7, 8}))},
    {"V6GapForOneGroup", "1:2:3:4:5:6:7::", true, IpAddr::v6(v6Bytes({1, 2, 3, 4, 5, 6, 7, 0}))},
    {"V6GapAtStartForOne", "::2:3:4:5:6:7:8", true, IpAddr::v6(v6Bytes({0, 2, 3, 4, 5, 6, 7, 8}))},
    {"V6Mapped", "::ffff:1.2.3.4", true,
     IpAddr::v6(v6Bytes({0, 0, 0, 0, 0, 0xffff, 0x102, 0x304}))},
    {"V6MappedUpper", "::FFFF:1.2.3.4", true,
     IpAddr::v6(v6Bytes({0, 0, 0, 0, 0, 0xffff, 0x102, 0x304}))},
    {"V6EmbeddedV4Full", "1:2:3:4:5:6:1.2.3.4", true,
     IpAddr::v6(v6Bytes({1, 2, 3, 4, 5, 6, 0x102, 0x304}))},
    {"V6Compat", "::1.2.3.4", true, IpAddr::v6(v6Bytes({0, 0, 0, 0, 0, 0, 0x102, 0x304}))},
    {"Empty", "", false, {}},
    {"V4ThreeFields", "1.2.3", false, {}},
    {"V4FiveFields", "1.2.3.4.5", false, {}},
    {"V4OctetAbove255", "256.1.1.1", false, {}},
    {"V4LeadingZeroOctal", "01.1.1.1", false, {}},
    {"V4FourDigits", "0001.1.1.1", false, {}},
    {"V4TrailingSpace", "1.2.3.4 ", false, {}},
    {"V4LeadingSpace", " 1.2.3.4", false, {}},
    {"V4Sign", "+1.2.3.4", false, {}},
    {"V4EmptyField", "1..2.3", false, {}},
    {"V4TrailingDot", "1.2.3.", false, {}},
    {"V4Hex", "0x1.2.3.4", false, {}},
    {"V4Single", "16909060", false, {}},
    {"V4WithPort", "1.2.3.4:21", false, {}},
    {"V6TripleColon", ":::", false, {}},
    {"V6TripleColonInside", "1:::2", false, {}},
    {"V6TwoGaps", "1::2::3", false, {}},
    {"V6GroupTooLong", "12345::", false, {}},
    {"V6NineGroups", "1:2:3:4:5:6:7:8:9", false, {}},
    {"V6SevenGroups", "1:2:3:4:5:6:7", false, {}},
    {"V6EightGroupsAndGap", "1:2:3:4:5:6:7:8::", false, {}},
    {"V6GapWithEightGroups", "1:2:3:4::5:6:7:8", false, {}},
    {"V6LeadingSingleColon", ":1::", false, {}},
    {"V6TrailingSingleColon", "1::2:", false, {}},
    {"V6ZoneIndex", "fe80::1%eth0", false, {}},
    {"V6Brackets", "[::1]", false, {}},
    {"V6NonHex", "g::1", false, {}},
    {"V6ShortEmbeddedV4", "::ffff:1.2.3", false, {}},
    {"V6EmbeddedV4NotLast", "::1.2.3.4:5", false, {}},
    {"V6EmbeddedV4TooMany", "1:2:3:4:5:6:7:1.2.3.4", false, {}},
    {"V6EmbeddedV4OutOfRange", "::ffff:256.1.1.1", false, {}},
    {"V6EmbeddedV4First", "1.2.3.4::", false, {}},
    {"V6Prefix", "2001:db8::/32", false, {}},
    {"V6Space", "2001:db8:: 1", false, {}},
};

void PrintTo(const ParseCase& c, std::ostream* os) { *os << c.name; }

class TypesParseIp : public ::testing::TestWithParam<ParseCase> {};

TEST_P(TypesParseIp, Parses) {
  const ParseCase& c = GetParam();
  IpAddr got = IpAddr::v4(9, 9, 9, 9);
  ASSERT_EQ(parseGuarded(c.text, got), c.valid);
  if (!c.valid) return;
  EXPECT_EQ(got, c.want);
  // Canonical text re-parses to the same address.
  IpAddr again;
  ASSERT_TRUE(parseGuarded(formatted(got), again)) << formatted(got);
  EXPECT_EQ(again, got);
}

INSTANTIATE_TEST_SUITE_P(Cases, TypesParseIp, ::testing::ValuesIn(kParseCases), CaseName());

TEST(TypesParse, EveryPrefixOfAnAddressIsReadInBounds) {
  for (const ParseCase& c : kParseCases) {
    for (size_t k = 0; k <= c.text.size(); ++k) {
      IpAddr a;
      (void)parseGuarded(c.text.substr(0, k), a);
    }
  }
}

TEST(TypesParse, Opposite) {
  EXPECT_EQ(opposite(Dir::C2S), Dir::S2C);
  EXPECT_EQ(opposite(Dir::S2C), Dir::C2S);
}

}  // namespace
}  // namespace ftpalg::core
