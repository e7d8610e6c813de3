// nf_tables message building for ftpalgd's queueing tables, checked by parsing the messages back
// (no kernel needed).
#include "kernel/nftables/queue_rule_messages.h"

#include <gtest/gtest.h>
#include <libnftnl/chain.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>

#include <array>
#include <string>
#include <vector>

#include "tests/support/queue_rule_spec.h"
#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {
namespace {

using kernel::QueueForm;
using kernel::QueueRuleSpec;
using kernel::nft::NftBatch;

// Table name of a NEWTABLE message.
std::string tableName(const nlmsghdr* nlh) {
  nftnl_table* t = nftnl_table_alloc();
  EXPECT_EQ(nftnl_table_nlmsg_parse(nlh, t), 0);
  std::string name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
  nftnl_table_free(t);
  return name;
}

// The chain every queueing table holds: forward, filter, hook forward, mangle priority, no
// policy (accept).
void expectForwardChain(const nlmsghdr* nlh) {
  nftnl_chain* c = nftnl_chain_alloc();
  ASSERT_EQ(nftnl_chain_nlmsg_parse(nlh, c), 0);
  EXPECT_STREQ(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), "ftpalg_queue");
  EXPECT_STREQ(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "forward");
  EXPECT_STREQ(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
  EXPECT_EQ(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), uint32_t{NF_INET_FORWARD});
  EXPECT_EQ(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), -150);
  EXPECT_FALSE(nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY));
  nftnl_chain_free(c);
}

// The match of one rule: tcp, then the port field at `offset` (2 dport, 0 sport) equal to
// `portHex` (network byte order), then `verdict`.
std::vector<std::string> rule(const std::string& offset, const std::string& portHex,
                              const std::string& verdict) {
  return {"meta l4proto -> r1", "cmp eq r1 06", "payload th+" + offset + "/2 -> r1",
          "cmp eq r1 " + portHex, verdict};
}

constexpr uint16_t kCreate = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE;
constexpr uint16_t kAppend = kCreate | NLM_F_APPEND;

TEST(QueueRuleMessages, NftFormIsOneInetTableOfQueueRules) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 100);
  ASSERT_TRUE(
      appendQueueRules(batch, queueRuleSpec(3, 2, {21, 2121}, true), QueueForm::Nft, "nft: q"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  ASSERT_EQ(msgs.size(), 8u);  // BEGIN, table, chain, 2 ports x 2 directions, END
  EXPECT_EQ(msgs[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
  EXPECT_EQ(msgs[7]->nlmsg_type, NFNL_MSG_BATCH_END);
  for (size_t i = 1; i < 7; ++i) EXPECT_EQ(nfgenFamily(msgs[i]), NFPROTO_INET) << i;

  EXPECT_EQ(msgs[1]->nlmsg_type, nftMsgType(NFT_MSG_NEWTABLE));
  EXPECT_EQ(msgs[1]->nlmsg_flags, kCreate);
  EXPECT_EQ(tableName(msgs[1]), "ftpalg_queue");
  EXPECT_EQ(msgs[2]->nlmsg_type, nftMsgType(NFT_MSG_NEWCHAIN));
  EXPECT_EQ(msgs[2]->nlmsg_flags, kCreate);
  expectForwardChain(msgs[2]);

  const std::string queue = "queue 3+2 flags 1";  // num 3-4 bypass
  const std::vector<std::vector<std::string>> want = {
      rule("2", "0015", queue), rule("0", "0015", queue),   // 21: dport, then sport
      rule("2", "0849", queue), rule("0", "0849", queue)};  // 2121
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(msgs[3 + i]->nlmsg_type, nftMsgType(NFT_MSG_NEWRULE));
    EXPECT_EQ(msgs[3 + i]->nlmsg_flags, kAppend);
    EXPECT_EQ(attrText(findAttr(attrsOf(msgs[3 + i]), NFTA_RULE_TABLE)), "ftpalg_queue");
    EXPECT_EQ(attrText(findAttr(attrsOf(msgs[3 + i]), NFTA_RULE_CHAIN)), "forward");
    EXPECT_EQ(ruleExprs(msgs[3 + i]), want[i]) << i;
  }
}

TEST(QueueRuleMessages, IptablesFormIsIpAndIp6TablesOfNfqueueTargets) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 100);
  ASSERT_TRUE(
      appendQueueRules(batch, queueRuleSpec(3, 2, {21}, true), QueueForm::Iptables, "nft: q"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  ASSERT_EQ(msgs.size(), 10u);  // BEGIN, (table, chain, dport, sport) x 2, END
  // xt_NFQ_info_v3 in host order: queuenum 3, queues_total 2, flags NFQ_FLAG_BYPASS, padding.
  const std::string target = "target NFQUEUE rev 3 info 0300020001000000";
  const std::array<uint8_t, 2> families = {NFPROTO_IPV4, NFPROTO_IPV6};
  for (size_t f = 0; f < families.size(); ++f) {
    const size_t at = 1 + 4 * f;
    for (size_t i = at; i < at + 4; ++i) EXPECT_EQ(nfgenFamily(msgs[i]), families[f]) << i;
    EXPECT_EQ(msgs[at]->nlmsg_type, nftMsgType(NFT_MSG_NEWTABLE));
    EXPECT_EQ(tableName(msgs[at]), "ftpalg_queue");
    expectForwardChain(msgs[at + 1]);
    EXPECT_EQ(ruleExprs(msgs[at + 2]), rule("2", "0015", target));
    EXPECT_EQ(ruleExprs(msgs[at + 3]), rule("0", "0015", target));
    EXPECT_EQ(msgs[at + 3]->nlmsg_flags, kAppend);
  }
}

TEST(QueueRuleMessages, FailClosedRulesHaveNoBypass) {
  std::vector<char> buf(64 * 1024);
  for (QueueForm form : {QueueForm::Nft, QueueForm::Iptables}) {
    NftBatch batch(buf, 1);
    ASSERT_TRUE(appendQueueRules(batch, queueRuleSpec(7, 1, {21}, false), form, "nft: q"));
    ASSERT_TRUE(batch.finish());
    const auto msgs = batchMessages(batch);
    ASSERT_GE(msgs.size(), 5u);
    EXPECT_EQ(ruleExprs(msgs[3]).back(), form == QueueForm::Nft
                                             ? "queue 7+1 flags 0"
                                             : "target NFQUEUE rev 3 info 0700010000000000");
  }
}

TEST(QueueRuleMessages, EveryMessageCarriesTheLabel) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 10);
  ASSERT_TRUE(appendQueueRules(batch, queueRuleSpec(0, 1, {21}, false), QueueForm::Iptables,
                               "nft: add NFQUEUE rules"));
  ASSERT_TRUE(batch.finish());
  ASSERT_EQ(batch.messageCount(), 8u);
  for (uint32_t seq = batch.firstSeq(); seq < batch.firstSeq() + 8; ++seq) {
    EXPECT_EQ(batch.label(seq), "nft: add NFQUEUE rules") << seq;
  }
}

TEST(QueueRuleMessages, EightControlPortsInTheIptablesFormFitOneBatch) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 1);
  ASSERT_TRUE(appendQueueRules(
      batch, queueRuleSpec(0, 4, {21, 2121, 2122, 2123, 2124, 2125, 2126, 2127}, false),
      QueueForm::Iptables, "nft: q"));
  ASSERT_TRUE(batch.finish());
  EXPECT_EQ(batch.messageCount(), 36u);  // 2 families x (table, chain, 8 ports x 2 rules)
}

TEST(QueueRuleMessages, FailsCleanlyWhenTheBufferIsTooSmall) {
  std::array<char, 1024> buf{};
  NftBatch batch(buf, 1);
  EXPECT_FALSE(
      appendQueueRules(batch, queueRuleSpec(0, 1, {21, 2121}, false), QueueForm::Nft, "nft: q"));
  EXPECT_FALSE(batch.ok());
}

TEST(QueueRuleMessages, Families) {
  EXPECT_EQ(std::vector<uint16_t>(kernel::nft::queueFamilies(QueueForm::Nft).begin(),
                                  kernel::nft::queueFamilies(QueueForm::Nft).end()),
            (std::vector<uint16_t>{NFPROTO_INET}));
  EXPECT_EQ(std::vector<uint16_t>(kernel::nft::queueFamilies(QueueForm::Iptables).begin(),
                                  kernel::nft::queueFamilies(QueueForm::Iptables).end()),
            (std::vector<uint16_t>{NFPROTO_IPV4, NFPROTO_IPV6}));
  const auto all = kernel::nft::allQueueFamilies();
  EXPECT_EQ(std::vector<uint16_t>(all.begin(), all.end()),
            (std::vector<uint16_t>{NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6}));
  EXPECT_STREQ(kernel::nft::familyName(NFPROTO_INET), "inet");
  EXPECT_STREQ(kernel::nft::familyName(NFPROTO_IPV4), "ip");
  EXPECT_STREQ(kernel::nft::familyName(NFPROTO_IPV6), "ip6");
}

}  // namespace

// --install-rules in fail-open mode: the rules of rewritten sessions (ct mark == sessionMark,
// queued without bypass) precede the bypass rules, in both forms
// (src/kernel/nftables/queue_rule_messages.cc), checked by parsing the messages back.
namespace {

using kernel::QueueForm;
using kernel::QueueRuleSpec;
using kernel::nft::NftBatch;

std::vector<std::string> markedRule(const std::string& offset, const std::string& verdict) {
  // ct mark (key 3) in host byte order: 0xf7a2.
  return {"meta l4proto -> r1",
          "cmp eq r1 06",
          "payload th+" + offset + "/2 -> r1",
          "cmp eq r1 0015",
          "ct key3 -> r1",
          "cmp eq r1 a2f70000",
          verdict};
}

std::vector<std::string> plainRule(const std::string& offset, const std::string& verdict) {
  return {"meta l4proto -> r1", "cmp eq r1 06", "payload th+" + offset + "/2 -> r1",
          "cmp eq r1 0015", verdict};
}

std::vector<const nlmsghdr*> build(const QueueRuleSpec& s, QueueForm form, NftBatch& batch) {
  EXPECT_TRUE(appendQueueRules(batch, s, form, "nft: q"));
  EXPECT_TRUE(batch.finish());
  return batchMessages(batch);
}

TEST(QueueRuleMessagesSessionMark, NftFormQueuesMarkedSessionsFirstWithoutBypass) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 1);
  QueueRuleSpec s = queueRuleSpec(3, 2, {21}, true);
  s.sessionMark = 0xf7a2;
  const auto msgs = build(s, QueueForm::Nft, batch);
  ASSERT_EQ(msgs.size(), 8u);  // BEGIN, table, chain, 2 marked, 2 bypass, END
  EXPECT_EQ(ruleExprs(msgs[3]), markedRule("2", "queue 3+2 flags 0"));
  EXPECT_EQ(ruleExprs(msgs[4]), markedRule("0", "queue 3+2 flags 0"));
  EXPECT_EQ(ruleExprs(msgs[5]), plainRule("2", "queue 3+2 flags 1"));
  EXPECT_EQ(ruleExprs(msgs[6]), plainRule("0", "queue 3+2 flags 1"));
}

TEST(QueueRuleMessagesSessionMark, IptablesFormQueuesMarkedSessionsFirstWithoutBypass) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 1);
  QueueRuleSpec s = queueRuleSpec(3, 2, {21}, true);
  s.sessionMark = 0xf7a2;
  const auto msgs = build(s, QueueForm::Iptables, batch);
  ASSERT_EQ(msgs.size(), 14u);  // BEGIN, (table, chain, 2 marked, 2 bypass) x 2, END
  for (size_t at : {1u, 7u}) {
    EXPECT_EQ(ruleExprs(msgs[at + 2]),
              markedRule("2", "target NFQUEUE rev 3 info 0300020000000000"));
    EXPECT_EQ(ruleExprs(msgs[at + 3]),
              markedRule("0", "target NFQUEUE rev 3 info 0300020000000000"));
    EXPECT_EQ(ruleExprs(msgs[at + 4]),
              plainRule("2", "target NFQUEUE rev 3 info 0300020001000000"));
  }
}

TEST(QueueRuleMessagesSessionMark, FailClosedHasNoMarkedRules) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 1);
  QueueRuleSpec s = queueRuleSpec(3, 1, {21}, false);
  s.sessionMark = 0xf7a2;
  EXPECT_EQ(build(s, QueueForm::Nft, batch).size(), 6u);  // BEGIN, table, chain, 2 rules, END
}

}  // namespace
// Spread connections (queue_rules_text.h, "Spreading connections"), xtables form: one rule per
// queue, `symhash mod 2 == slot`, then NFQUEUE to that one queue; no packet mark is written.
TEST(QueueRuleMessagesSpread, IptablesFormOneRulePerQueueBySymhash) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 100);
  QueueRuleSpec s = queueRuleSpec(3, 2, {21}, true);
  s.spreadConnections = true;
  ASSERT_TRUE(appendQueueRules(batch, s, QueueForm::Iptables, "nft: q"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  ASSERT_EQ(msgs.size(), 14u);  // BEGIN, (table, chain, dport x 2, sport x 2) x 2, END
  // xt_NFQ_info_v3: queuenum 3 or 4, queues_total 1, flags NFQ_FLAG_BYPASS.
  const std::string q3 = "target NFQUEUE rev 3 info 0300010001000000";
  const std::string q4 = "target NFQUEUE rev 3 info 0400010001000000";
  const auto spread = [](const std::string& offset, const std::string& slot,
                         const std::string& target) {
    std::vector<std::string> r = rule(offset, "0015", "hash sym mod 2 offset 0 -> r1");
    r.push_back("cmp eq r1 " + slot);
    r.push_back(target);
    return r;
  };
  for (size_t at : {size_t{1}, size_t{7}}) {
    EXPECT_EQ(ruleExprs(msgs[at + 2]), spread("2", "00000000", q3));
    EXPECT_EQ(ruleExprs(msgs[at + 3]), spread("2", "01000000", q4));
    EXPECT_EQ(ruleExprs(msgs[at + 4]), spread("0", "00000000", q3));
    EXPECT_EQ(ruleExprs(msgs[at + 5]), spread("0", "01000000", q4));
  }
}

// nft form: `queue to symhash mod N offset FIRST` (one rule per direction, as without spread).
TEST(QueueRuleMessagesSpread, NftFormQueuesToSymhash) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 100);
  QueueRuleSpec s = queueRuleSpec(160, 2, {21}, false);
  s.spreadConnections = true;
  ASSERT_TRUE(appendQueueRules(batch, s, QueueForm::Nft, "nft: q"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  ASSERT_EQ(msgs.size(), 6u);  // BEGIN, table, chain, dport, sport, END
  std::vector<std::string> want = rule("2", "0015", "hash sym mod 2 offset 160 -> r1");
  want.push_back("queue to r1 flags 0");
  EXPECT_EQ(ruleExprs(msgs[3]), want);
}

// One queue: spreading changes nothing.
TEST(QueueRuleMessagesSpread, OneQueueIsUnchanged) {
  std::vector<char> a(64 * 1024);
  std::vector<char> b(64 * 1024);
  NftBatch plain(a, 100);
  NftBatch spread(b, 100);
  QueueRuleSpec s = queueRuleSpec(3, 1, {21}, true);
  ASSERT_TRUE(appendQueueRules(plain, s, QueueForm::Iptables, "nft: q"));
  s.spreadConnections = true;
  ASSERT_TRUE(appendQueueRules(spread, s, QueueForm::Iptables, "nft: q"));
  ASSERT_TRUE(plain.finish());
  ASSERT_TRUE(spread.finish());
  const auto x = batchMessages(plain);
  const auto y = batchMessages(spread);
  ASSERT_EQ(x.size(), y.size());
  ASSERT_EQ(x.size(), 10u);  // BEGIN, (table, chain, dport, sport) x 2, END
  for (size_t i : {3u, 4u, 7u, 8u}) EXPECT_EQ(ruleExprs(x[i]), ruleExprs(y[i])) << i;
}

}  // namespace ftpalg::test
