// nf_tables message building for expectation mode's table, checked by parsing the messages back
// (no kernel needed).
#include "kernel/nftables/helper_rule_messages.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>

#include <array>
#include <string>
#include <vector>

#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {
namespace {

using kernel::HelperRuleSpec;
using kernel::nft::NftBatch;

constexpr uint16_t kCreate = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;

// tcp dport `portHex` ct state new ct helper set "ftpalg-ftp"
std::vector<std::string> helperRule(const std::string& portHex) {
  return {"meta l4proto -> r1",
          "cmp eq r1 06",
          "payload th+2/2 -> r1",
          "cmp eq r1 " + portHex,
          "ct state -> r1",
          "bitwise r1 & 08000000 ^ 00000000 -> r1",  // IP_CT_NEW's state bit, host order
          "cmp ne r1 00000000",
          "objref " + std::to_string(NFT_OBJECT_CT_HELPER)};
}

TEST(HelperRuleMessages, TableHelperObjectChainAndOneRulePerPort) {
  std::vector<char> buf(32 * 1024);
  NftBatch batch(buf, 100);
  HelperRuleSpec spec;
  spec.ports = {21, 2121};
  ASSERT_TRUE(appendHelperRules(batch, spec, "nft: add table inet ftpalg_helper"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  ASSERT_EQ(msgs.size(), 7u);  // BEGIN, table, object, chain, 2 rules, END
  EXPECT_EQ(msgs[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
  EXPECT_EQ(msgs[6]->nlmsg_type, NFNL_MSG_BATCH_END);
  for (size_t i = 1; i < 6; ++i) {
    EXPECT_EQ(nfgenFamily(msgs[i]), NFPROTO_INET) << i;
    EXPECT_EQ(batch.label(batch.firstSeq() + static_cast<uint32_t>(i - 1)),
              "nft: add table inet ftpalg_helper");
  }

  EXPECT_EQ(msgs[1]->nlmsg_type, nftMsgType(NFT_MSG_NEWTABLE));
  EXPECT_EQ(msgs[1]->nlmsg_flags, kCreate);
  nftnl_table* t = nftnl_table_alloc();
  ASSERT_EQ(nftnl_table_nlmsg_parse(msgs[1], t), 0);
  EXPECT_STREQ(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "ftpalg_helper");
  nftnl_table_free(t);

  // ct helper ftpalg-ftp { type "ftpalg" protocol tcp; }, no l3proto (inet: IPv4 and IPv6).
  EXPECT_EQ(msgs[2]->nlmsg_type, nftMsgType(NFT_MSG_NEWOBJ));
  EXPECT_EQ(msgs[2]->nlmsg_flags, kCreate);
  const auto obj = attrsOf(msgs[2]);
  EXPECT_EQ(attrText(findAttr(obj, NFTA_OBJ_TABLE)), "ftpalg_helper");
  EXPECT_EQ(attrText(findAttr(obj, NFTA_OBJ_NAME)), "ftpalg-ftp");
  ASSERT_NE(findAttr(obj, NFTA_OBJ_TYPE), nullptr);
  EXPECT_EQ(ntohl(mnl_attr_get_u32(findAttr(obj, NFTA_OBJ_TYPE))), uint32_t{NFT_OBJECT_CT_HELPER});
  const nlattr* data = findAttr(obj, NFTA_OBJ_DATA);
  ASSERT_NE(data, nullptr);
  const auto helper = attrsOf(data);
  EXPECT_EQ(attrText(findAttr(helper, NFTA_CT_HELPER_NAME)), "ftpalg");
  ASSERT_NE(findAttr(helper, NFTA_CT_HELPER_L4PROTO), nullptr);
  EXPECT_EQ(mnl_attr_get_u8(findAttr(helper, NFTA_CT_HELPER_L4PROTO)), IPPROTO_TCP);
  EXPECT_EQ(findAttr(helper, NFTA_CT_HELPER_L3PROTO), nullptr);

  EXPECT_EQ(msgs[3]->nlmsg_type, nftMsgType(NFT_MSG_NEWCHAIN));
  nftnl_chain* c = nftnl_chain_alloc();
  ASSERT_EQ(nftnl_chain_nlmsg_parse(msgs[3], c), 0);
  EXPECT_STREQ(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), "ftpalg_helper");
  EXPECT_STREQ(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "pre");
  EXPECT_STREQ(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
  EXPECT_EQ(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), uint32_t{NF_INET_PRE_ROUTING});
  EXPECT_EQ(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), -150);  // after conntrack, before dstnat
  EXPECT_EQ(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), uint32_t{NF_ACCEPT});
  nftnl_chain_free(c);

  const std::array<std::string, 2> ports = {"0015", "0849"};  // 21, 2121
  for (size_t i = 0; i < ports.size(); ++i) {
    const nlmsghdr* r = msgs[4 + i];
    EXPECT_EQ(r->nlmsg_type, nftMsgType(NFT_MSG_NEWRULE));
    EXPECT_EQ(r->nlmsg_flags, kCreate | NLM_F_APPEND);
    EXPECT_EQ(attrText(findAttr(attrsOf(r), NFTA_RULE_TABLE)), "ftpalg_helper");
    EXPECT_EQ(attrText(findAttr(attrsOf(r), NFTA_RULE_CHAIN)), "pre");
    EXPECT_EQ(ruleExprs(r), helperRule(ports[i])) << i;
    EXPECT_EQ(attrText(ruleExprAttr(r, 7, NFTA_OBJREF_IMM_NAME)), "ftpalg-ftp");
  }
}

TEST(HelperRuleMessages, TheObjectNamesTheRegisteredHelper) {
  std::vector<char> buf(32 * 1024);
  NftBatch batch(buf, 1);
  HelperRuleSpec spec;
  spec.helper = "other";
  ASSERT_TRUE(appendHelperRules(batch, spec, "nft: h"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  ASSERT_EQ(msgs.size(), 6u);  // one port: 21
  const nlattr* data = findAttr(attrsOf(msgs[2]), NFTA_OBJ_DATA);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(attrText(findAttr(attrsOf(data), NFTA_CT_HELPER_NAME)), "other");
  EXPECT_EQ(ruleExprs(msgs[4]), helperRule("0015"));
}

TEST(HelperRuleMessages, FailsCleanlyWhenTheBufferIsTooSmall) {
  std::array<char, 1024> buf{};  // each message fits in half of it, all of them do not
  NftBatch batch(buf, 1);
  HelperRuleSpec spec;
  spec.ports = {21, 2121, 2122};
  EXPECT_FALSE(appendHelperRules(batch, spec, "nft: h"));
  EXPECT_FALSE(batch.ok());
}

// Expectation mode's table across restarts: the chain hooks prerouting between conntrack and
// destination NAT, and a restart replaces the table a predecessor left in one transaction
// (add, delete, add with contents), so the hook is never without its rule.
TEST(HelperRulePriority, BetweenConntrackAndDestinationNat) {
  EXPECT_GT(kernel::kHelperChainPriority, NF_IP_PRI_CONNTRACK);  // -200: the entry exists
  EXPECT_LT(kernel::kHelperChainPriority, NF_IP_PRI_NAT_DST);    // -100: before DNAT
  EXPECT_NE(kernel::helperRulesText(HelperRuleSpec{}).find("prerouting priority -150;"),
            std::string::npos);
}

TEST(HelperRuleReplace, AddDeleteThenTheTableInOneBatch) {
  std::vector<char> buf(32 * 1024);
  NftBatch batch(buf, 100);
  ASSERT_TRUE(appendReplaceHelperRules(batch, HelperRuleSpec{}, "replace"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  // BEGIN, add table, delete table, table, object, chain, one rule, END
  ASSERT_EQ(msgs.size(), 8u);
  EXPECT_EQ(msgs[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
  EXPECT_EQ(msgs[1]->nlmsg_type, nftMsgType(NFT_MSG_NEWTABLE));
  EXPECT_EQ(msgs[1]->nlmsg_flags & NLM_F_EXCL, 0);  // an existing table is no error
  EXPECT_EQ(msgs[2]->nlmsg_type, nftMsgType(NFT_MSG_DELTABLE));
  EXPECT_EQ(msgs[3]->nlmsg_type, nftMsgType(NFT_MSG_NEWTABLE));
  EXPECT_EQ(msgs[4]->nlmsg_type, nftMsgType(NFT_MSG_NEWOBJ));
  EXPECT_EQ(msgs[5]->nlmsg_type, nftMsgType(NFT_MSG_NEWCHAIN));
  EXPECT_EQ(msgs[6]->nlmsg_type, nftMsgType(NFT_MSG_NEWRULE));
  EXPECT_EQ(msgs[7]->nlmsg_type, NFNL_MSG_BATCH_END);
  for (size_t i = 1; i <= 3; ++i) {
    nftnl_table* t = nftnl_table_alloc();
    ASSERT_EQ(nftnl_table_nlmsg_parse(msgs[i], t), 0) << i;
    EXPECT_STREQ(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "ftpalg_helper") << i;
    nftnl_table_free(t);
    EXPECT_EQ(nfgenFamily(msgs[i]), NFPROTO_INET) << i;
  }
  nftnl_chain* c = nftnl_chain_alloc();
  ASSERT_EQ(nftnl_chain_nlmsg_parse(msgs[5], c), 0);
  EXPECT_EQ(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), uint32_t{NF_INET_PRE_ROUTING});
  EXPECT_EQ(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), -150);
  nftnl_chain_free(c);
}

}  // namespace
}  // namespace ftpalg::test
