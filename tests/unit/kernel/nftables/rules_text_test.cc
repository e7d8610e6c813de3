#include "kernel/nftables/rules_text.h"

#include <gtest/gtest.h>

#include "ftpalg/kernel/pinhole.h"

namespace ftpalg::test {

using namespace ftpalg::kernel;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

TEST(RulesText, TableUsesTheConfiguredNameAndMark) {
  PinholeConfig cfg;
  cfg.table = "alg";
  cfg.ctMark = 0x42;
  const std::string t = pinholeTableText(cfg);
  EXPECT_TRUE(t.starts_with("table inet alg {\n"));
  EXPECT_NE(t.find("dnat ip to ip saddr . ip daddr . tcp dport map @nat4\n"), std::string::npos);
  EXPECT_NE(t.find("dnat ip6 to ip6 saddr . ip6 daddr . tcp dport map @nat6\n"), std::string::npos);
  EXPECT_NE(t.find("ct state new ip saddr . ip daddr . tcp dport @pin4 delete @pin4 { ip saddr "
                   ". ip daddr . tcp dport } ct mark set 0x00000042 counter accept\n"),
            std::string::npos);
  EXPECT_NE(t.find("type nat hook prerouting priority dstnat - 5;"), std::string::npos);
  EXPECT_NE(t.find("type filter hook forward priority filter - 5;"), std::string::npos);
  EXPECT_NE(t.find("\tmap snat4 {\n\t\ttype ipv4_addr . ipv4_addr . inet_service : ipv4_addr\n"),
            std::string::npos);
  EXPECT_NE(t.find("type nat hook postrouting priority srcnat - 5;"), std::string::npos);
  EXPECT_NE(t.find("meta l4proto tcp snat ip to ip saddr . ct original ip daddr . ct original "
                   "proto-dst map @snat4\n"),
            std::string::npos);
  EXPECT_NE(t.find("meta l4proto tcp snat ip6 to ip6 saddr . ct original ip6 daddr . ct original "
                   "proto-dst map @snat6\n"),
            std::string::npos);
  EXPECT_TRUE(t.ends_with("\t}\n}\n"));
}

TEST(RulesText, DescribeIsTheTableText) {
  PinholeConfig cfg;
  PinholeTable table(cfg);
  EXPECT_EQ(table.describe(), pinholeTableText(cfg));
}

TEST(RulesText, TellsTheAdminWhichMarkToAccept) {
  PinholeConfig cfg;
  const std::string t = rulesText(cfg);
  EXPECT_NE(t.find(pinholeTableText(cfg)), std::string::npos);
  EXPECT_NE(t.find("ct mark 0x0000f7a1 accept"), std::string::npos);
  EXPECT_NE(t.find("30000 ms"), std::string::npos);
}

TEST(RulesText, PreChainSteersOnlyTheFirstConnectionOfANatElement) {
  const std::string t = pinholeTableText(PinholeConfig{});
  EXPECT_NE(t.find("\tset natuse4 {\n\t\ttype ipv4_addr . ipv4_addr . inet_service\n"),
            std::string::npos);
  const size_t unused = t.find("\t\tip saddr . ip daddr . tcp dport != @natuse4 accept\n");
  const size_t use = t.find(
      "\t\tip saddr . ip daddr . tcp dport @natuse4 delete @natuse4 { ip saddr . ip daddr . tcp "
      "dport }\n");
  const size_t dnat = t.find("dnat ip to ip saddr . ip daddr . tcp dport map @nat4\n");
  ASSERT_NE(unused, std::string::npos);
  ASSERT_NE(use, std::string::npos);
  EXPECT_LT(unused, use);
  EXPECT_LT(use, dnat);
  EXPECT_NE(t.find("ip6 saddr . ip6 daddr . tcp dport != @natuse6 accept\n"), std::string::npos);
}

}  // namespace
}  // namespace ftpalg::test
