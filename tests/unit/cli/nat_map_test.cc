#include "cli/nat_map.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::cli;  // NOLINT(google-build-using-namespace): the unit under test
namespace {


TEST(NatRule, ParsesIpv4AndIpv6) {
  NatRule r;
  ASSERT_TRUE(parseNatRule("198.18.0.2=198.51.100.7", r).ok());
  EXPECT_EQ(r.from, ipFromText("198.18.0.2"));
  EXPECT_EQ(r.to, ipFromText("198.51.100.7"));
  ASSERT_TRUE(parseNatRule("fd00::2=2001:db8::7", r).ok());
  EXPECT_EQ(r.from, ipFromText("fd00::2"));
  EXPECT_EQ(r.to, ipFromText("2001:db8::7"));
}

TEST(NatRule, Errors) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"198.18.0.2", "expected ADDRESS=ADDRESS"},
      {"", "expected ADDRESS=ADDRESS"},
      {"=198.51.100.7", "'' is not an IPv4 or IPv6 address"},
      {"198.18.0.2=", "'' is not an IPv4 or IPv6 address"},
      {"198.18.0.256=198.51.100.7", "'198.18.0.256' is not an IPv4 or IPv6 address"},
      {"198.18.0.2 =198.51.100.7", "'198.18.0.2 ' is not an IPv4 or IPv6 address"},
      {"198.18.0.2=198.51.100.7:21", "'198.51.100.7:21' is not an IPv4 or IPv6 address"},
      {"198.18.0.2=198.51.100.0/24", "'198.51.100.0/24' is not an IPv4 or IPv6 address"},
      {"198.18.0.2=a=b", "'a=b' is not an IPv4 or IPv6 address"},
      {"host=198.51.100.7", "'host' is not an IPv4 or IPv6 address"},
      {"198.18.0.2=2001:db8::7", "both addresses must be of the same family"},
  };
  for (const Case& c : cases) {
    NatRule r;
    const Status s = parseNatRule(c.text, r);
    EXPECT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.message(), c.message) << c.text;
  }
}

TEST(NatMap, ErrorsNameTheOption) {
  NatMap map;
  EXPECT_EQ(map.addSnat("nope").message(), "--snat nope: expected ADDRESS=ADDRESS");
  EXPECT_EQ(map.addDnat("1.2.3.4=::1").message(),
            "--dnat 1.2.3.4=::1: both addresses must be of the same family");
  EXPECT_TRUE(map.empty());
}

TEST(NatMap, ConflictingDuplicateIsAnError) {
  NatMap map;
  ASSERT_TRUE(map.addSnat("10.0.0.2=198.51.100.7").ok());
  EXPECT_TRUE(map.addSnat("10.0.0.2=198.51.100.7").ok());  // the same again is harmless
  EXPECT_EQ(map.addSnat("10.0.0.2=198.51.100.8").message(),
            "--snat 10.0.0.2=198.51.100.8: address 10.0.0.2 is already mapped");
  EXPECT_TRUE(map.addDnat("10.0.0.2=192.168.1.1").ok());  // separate map
}

TEST(NatMap, NoRuleMeansNoNat) {
  NatMap map;
  ASSERT_TRUE(map.addSnat("10.0.0.9=198.51.100.9").ok());
  core::NatBinding b;
  const core::FlowKey flow{endpoint("10.0.0.2:40000"), endpoint("192.0.2.1:21")};
  EXPECT_FALSE(map.resolve(flow, b));
  EXPECT_EQ(b.clientInside, flow.client.addr);
  EXPECT_EQ(b.clientOutside, flow.client.addr);
  EXPECT_EQ(b.serverInside, flow.server.addr);
  EXPECT_EQ(b.serverOutside, flow.server.addr);
}

TEST(NatMap, SnatMapsTheClient) {
  NatMap map;
  ASSERT_TRUE(map.addSnat("198.18.0.2=198.51.100.7").ok());
  core::NatBinding b;
  ASSERT_TRUE(map.resolve({endpoint("198.18.0.2:45000"), endpoint("198.19.0.2:21")}, b));
  EXPECT_EQ(b.clientInside, ipFromText("198.18.0.2"));
  EXPECT_EQ(b.clientOutside, ipFromText("198.51.100.7"));
  EXPECT_EQ(b.serverInside, ipFromText("198.19.0.2"));
  EXPECT_EQ(b.serverOutside, ipFromText("198.19.0.2"));
}

TEST(NatMap, DnatMapsTheServer) {
  NatMap map;
  ASSERT_TRUE(map.addDnat("2001:db8::21=fd00::21").ok());
  ASSERT_TRUE(map.addSnat("2001:db8::99=2001:db8:1::99").ok());
  core::NatBinding b;
  ASSERT_TRUE(map.resolve({endpoint("[2001:db8::5]:40000"), endpoint("[2001:db8::21]:21")}, b));
  EXPECT_EQ(b.clientInside, ipFromText("2001:db8::5"));
  EXPECT_EQ(b.clientOutside, ipFromText("2001:db8::5"));
  EXPECT_EQ(b.serverInside, ipFromText("2001:db8::21"));
  EXPECT_EQ(b.serverOutside, ipFromText("fd00::21"));
}

}  // namespace
}  // namespace ftpalg::test
