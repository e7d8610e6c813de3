// Per-network policy overrides: prefix matching and which override applies.
#include <gtest/gtest.h>

#include "ftpalg/core/policy_config.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

NetPrefix prefix(std::string_view addr, uint8_t length) { return {ipFromText(addr), length}; }

TEST(PolicyOverride, PrefixContainsByBitsAndFamily) {
  EXPECT_TRUE(prefixContains(prefix("198.18.5.0", 24), ipFromText("198.18.5.255")));
  EXPECT_FALSE(prefixContains(prefix("198.18.5.0", 24), ipFromText("198.18.4.1")));
  EXPECT_TRUE(prefixContains(prefix("198.18.4.0", 23), ipFromText("198.18.5.1")));
  EXPECT_FALSE(prefixContains(prefix("198.18.4.0", 23), ipFromText("198.18.6.1")));
  EXPECT_TRUE(prefixContains(prefix("198.18.5.9", 32), ipFromText("198.18.5.9")));
  EXPECT_FALSE(prefixContains(prefix("198.18.5.9", 32), ipFromText("198.18.5.8")));
  EXPECT_TRUE(prefixContains(prefix("0.0.0.0", 0), ipFromText("203.0.113.1")));
  EXPECT_TRUE(prefixContains(prefix("2001:db8::", 32), ipFromText("2001:db8:ff::1")));
  EXPECT_FALSE(prefixContains(prefix("2001:db8::", 33), ipFromText("2001:db8:8000::1")));
  EXPECT_FALSE(prefixContains(prefix("2001:db8::", 32), ipFromText("198.18.5.1")));
  EXPECT_FALSE(prefixContains(NetPrefix{}, ipFromText("198.18.5.1")));  // unused slot
}

TEST(PolicyOverride, FirstOverrideNamingServerAndAnnouncedWins) {
  PolicyOverrides o{};
  o[0].networks[0] = prefix("198.18.5.0", 24);
  o[1].networks[0] = prefix("198.18.0.0", 16);
  o[1].allowBounce = true;
  const IpAddr pub = ipFromText("203.0.113.1");
  const IpAddr server = ipFromText("198.18.5.2");
  EXPECT_EQ(findOverride(o, pub, server, ipFromText("198.18.5.3")), &o[0]);
  EXPECT_EQ(findOverride(o, server, pub, ipFromText("198.18.5.3")), &o[0]);  // either address
  EXPECT_EQ(findOverride(o, pub, server, ipFromText("198.18.9.3")), &o[1]);
  EXPECT_EQ(findOverride(o, pub, server, ipFromText("198.20.0.1")), nullptr);
  EXPECT_EQ(findOverride(o, pub, pub, ipFromText("198.18.5.3")), nullptr);
}

}  // namespace
}  // namespace ftpalg::test
