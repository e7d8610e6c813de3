#include "ftpalg/core/number.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

namespace ftpalg::test {
namespace {

using core::NumberBase;
using core::parseDecimalOrHex;
using core::parseNumber;

struct NumberCase {
  std::string_view text;
  bool ok;
  uint32_t value;
};

// Decimal 1..65535 with at most 5 digits: the port rule.
TEST(NumberTest, PortRangeTable) {
  const NumberCase cases[] = {
      {"1", true, 1},       {"21", true, 21},   {"65535", true, 65535},
      {"00021", true, 21},  {"0", false, 0},    {"65536", false, 0},
      {"", false, 0},       {"+21", false, 0},  {"-1", false, 0},
      {" 21", false, 0},    {"21 ", false, 0},  {"2a", false, 0},
      {"000021", false, 0}, {"0x15", false, 0}, {"99999999999999999999", false, 0},
  };
  for (const auto& c : cases) {
    uint16_t out = 7;
    EXPECT_EQ(parseNumber<uint16_t>(c.text, out, 1, 65535, 5), c.ok) << c.text;
    EXPECT_EQ(out, c.ok ? c.value : 7u) << c.text << ": untouched on failure";
  }
}

TEST(NumberTest, DefaultDigitBoundFitsTheType) {
  uint8_t o8 = 0;
  EXPECT_TRUE(parseNumber<uint8_t>("255", o8, 0, 255));
  EXPECT_FALSE(parseNumber<uint8_t>("256", o8, 0, 255));
  uint32_t o32 = 0;
  EXPECT_TRUE(parseNumber<uint32_t>("4294967295", o32, 0, UINT32_MAX));
  EXPECT_FALSE(parseNumber<uint32_t>("4294967296", o32, 0, UINT32_MAX));
  EXPECT_FALSE(parseNumber<uint32_t>("04294967295", o32, 0, UINT32_MAX)) << "11 digits";
}

TEST(NumberTest, HexOnlyWhenAsked) {
  uint32_t out = 0;
  EXPECT_FALSE(parseNumber<uint32_t>("ff", out, 0, UINT32_MAX));
  EXPECT_TRUE(parseNumber<uint32_t>("ff", out, 0, UINT32_MAX, 8, NumberBase::Hex));
  EXPECT_EQ(out, 255u);
  EXPECT_FALSE(parseNumber<uint32_t>("fg", out, 0, UINT32_MAX, 8, NumberBase::Hex));
}

TEST(NumberTest, MarkTable) {
  const NumberCase cases[] = {
      {"0xf7a1", true, 0xf7a1},  {"0XF7A1", true, 0xf7a1},
      {"63393", true, 63393},    {"0xffffffff", true, ~0u},
      {"4294967295", true, ~0u}, {"0", false, 0},
      {"0x0", false, 0},         {"0x", false, 0},
      {"0x100000000", false, 0}, {"4294967296", false, 0},
      {"0x-1", false, 0},        {"f7a1", false, 0},
      {"0x 1", false, 0},        {"", false, 0},
  };
  for (const auto& c : cases) {
    uint32_t out = 7;
    EXPECT_EQ(parseDecimalOrHex<uint32_t>(c.text, out, 1, UINT32_MAX), c.ok) << c.text;
    EXPECT_EQ(out, c.ok ? c.value : 7u) << c.text;
  }
}

}  // namespace
}  // namespace ftpalg::test
