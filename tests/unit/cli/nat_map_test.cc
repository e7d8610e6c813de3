#include "cli/nat_map.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

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

// The binding NatMap gives the flow client -> server under its --snat and --dnat rules.
struct ResolveCase {
  const char* name;
  std::vector<std::string> snat;
  std::vector<std::string> dnat;
  const char* client;
  const char* server;
  bool resolves;  // false: no rule applies, the binding is the flow itself
  const char* clientInside;
  const char* clientOutside;
  const char* serverInside;
  const char* serverOutside;
};

void PrintTo(const ResolveCase& c, std::ostream* os) { *os << c.name; }

class NatMapResolve : public ::testing::TestWithParam<ResolveCase> {};

TEST_P(NatMapResolve, BindsTheFlow) {
  const ResolveCase& c = GetParam();
  NatMap map;
  for (const std::string& rule : c.dnat) ASSERT_TRUE(map.addDnat(rule).ok()) << c.name << rule;
  for (const std::string& rule : c.snat) ASSERT_TRUE(map.addSnat(rule).ok()) << c.name << rule;
  core::NatBinding b;
  const core::FlowKey flow{endpoint(c.client), endpoint(c.server)};
  if (c.resolves) {
    ASSERT_TRUE(map.resolve(flow, b)) << c.name;
  } else {
    EXPECT_FALSE(map.resolve(flow, b)) << c.name;
  }
  EXPECT_EQ(b.clientInside, ipFromText(c.clientInside)) << c.name;
  EXPECT_EQ(b.clientOutside, ipFromText(c.clientOutside)) << c.name;
  EXPECT_EQ(b.serverInside, ipFromText(c.serverInside)) << c.name;
  EXPECT_EQ(b.serverOutside, ipFromText(c.serverOutside)) << c.name;
}

INSTANTIATE_TEST_SUITE_P(NatMap, NatMapResolve,
                         ::testing::Values(ResolveCase{"NoRuleMeansNoNat",
                                                       {"10.0.0.9=198.51.100.9"},
                                                       {},
                                                       "10.0.0.2:40000",
                                                       "192.0.2.1:21",
                                                       false,
                                                       "10.0.0.2",
                                                       "10.0.0.2",
                                                       "192.0.2.1",
                                                       "192.0.2.1"},
                                           ResolveCase{"SnatMapsTheClient",
                                                       {"198.18.0.2=198.51.100.7"},
                                                       {},
                                                       "198.18.0.2:45000",
                                                       "198.19.0.2:21",
                                                       true,
                                                       "198.18.0.2",
                                                       "198.51.100.7",
                                                       "198.19.0.2",
                                                       "198.19.0.2"},
                                           ResolveCase{"DnatMapsTheServer",
                                                       {"2001:db8::99=2001:db8:1::99"},
                                                       {"2001:db8::21=fd00::21"},
                                                       "[2001:db8::5]:40000",
                                                       "[2001:db8::21]:21",
                                                       true,
                                                       "2001:db8::5",
                                                       "2001:db8::5",
                                                       "2001:db8::21",
                                                       "fd00::21"}),
                         [](const ::testing::TestParamInfo<ResolveCase>& p) {
                           return std::string(p.param.name);
                         });

}  // namespace
}  // namespace ftpalg::test
