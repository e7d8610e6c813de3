// The rule decoder of `ftpalg check` (src/kernel/nftables/rule_decoder.cc) on the rules that
// spread connections over queues (queue_rules_text.h, "Spreading connections"): the messages
// ftpalgd's own builders send, parsed back as the kernel's dump would give them, and the rules
// iptables-nft stores for the HMARK form `ftpalg rules` prints.
#include "kernel/nftables/rule_decoder.h"

#include <gtest/gtest.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_HMARK.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter/xt_mark.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernel/nftables/queue_rule_messages.h"
#include "kernel/nftables/rule_parts.h"
#include "tests/support/queue_rule_spec.h"
#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {
namespace {

using kernel::ConnHash;
using kernel::QueueForm;
using kernel::RuleFacts;
using kernel::RuleVerdict;
using kernel::nft::decodeRule;
using kernel::nft::NftBatch;

RuleFacts decoded(const nftnl_rule* r, const char* family = "ip") {
  return decodeRule(r, family, kernel::nft::PortSets{});
}

// Every rule of the queueing tables ftpalgd installs for `spec` in `form`, decoded.
std::vector<RuleFacts> installedRules(const kernel::QueueRuleSpec& spec, QueueForm form) {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 100);
  EXPECT_TRUE(kernel::nft::appendQueueRules(batch, spec, form, "test"));
  EXPECT_TRUE(batch.finish());
  std::vector<RuleFacts> out;
  for (const nlmsghdr* nlh : batchMessages(batch)) {
    if (nlh->nlmsg_type != nftMsgType(NFT_MSG_NEWRULE)) continue;
    nftnl_rule* r = nftnl_rule_alloc();
    EXPECT_EQ(nftnl_rule_nlmsg_parse(nlh, r), 0);
    out.push_back(decoded(r, kernel::nft::familyName(nfgenFamily(nlh))));
    nftnl_rule_free(r);
  }
  return out;
}

kernel::QueueRuleSpec spreadSpec(bool bypass) {
  kernel::QueueRuleSpec s = queueRuleSpec(160, 2, {21}, bypass);
  s.spreadConnections = true;
  return s;
}

// nft `queue to symhash mod 2 offset 160`: queues 160-161, the hash named, no condition.
TEST(RuleDecoderSpread, NftQueueToSymhashIsTheHashsRange) {
  const std::vector<RuleFacts> rules = installedRules(spreadSpec(true), QueueForm::Nft);
  ASSERT_EQ(rules.size(), 2u);  // dport, sport
  for (const RuleFacts& r : rules) {
    EXPECT_EQ(r.verdict, RuleVerdict::Queue);
    EXPECT_EQ(r.queueNum, 160);
    EXPECT_EQ(r.queueTotal, 2);
    EXPECT_TRUE(r.queueBypass);
    EXPECT_FALSE(r.compatQueue);
    ASSERT_TRUE(r.queueHash);
    EXPECT_EQ(*r.queueHash, (ConnHash{true, 2, 160}));
    EXPECT_FALSE(r.hashCondition);
    EXPECT_FALSE(r.otherCondition);
    EXPECT_EQ(r.tcp, true);
  }
  ASSERT_TRUE(rules[0].dports);
  EXPECT_EQ(*rules[0].dports, (std::vector<kernel::PortRange>{{21, 21}}));
  ASSERT_TRUE(rules[1].sports);
  EXPECT_EQ(*rules[1].sports, (std::vector<kernel::PortRange>{{21, 21}}));
}

// The fail-open rules of rewritten sessions come first in the same form, without bypass.
TEST(RuleDecoderSpread, NftMarkedRulesKeepTheirCtMark) {
  kernel::QueueRuleSpec s = spreadSpec(true);
  s.sessionMark = 0xf7a2;
  const std::vector<RuleFacts> rules = installedRules(s, QueueForm::Nft);
  ASSERT_EQ(rules.size(), 4u);  // marked dport, sport; then the general ones
  EXPECT_EQ(rules[0].ctMark, 0xf7a2u);
  EXPECT_FALSE(rules[0].queueBypass);
  EXPECT_EQ(rules[0].queueNum, 160);
  EXPECT_EQ(rules[0].queueTotal, 2);
  EXPECT_FALSE(rules[2].ctMark);
  EXPECT_TRUE(rules[2].queueBypass);
}

// ftpalgd's xtables form: `symhash mod 2 == slot` then NFQUEUE to queue 160 + slot alone; the
// slot is read, and the rule stays conditional (it sees half the connections).
TEST(RuleDecoderSpread, CompatRulePerSlotNamesItsQueueAndSlot) {
  const std::vector<RuleFacts> rules = installedRules(spreadSpec(false), QueueForm::Iptables);
  ASSERT_EQ(rules.size(), 8u);  // (dport, sport) x 2 slots x (ip, ip6)
  for (size_t i = 0; i < rules.size(); ++i) {
    const RuleFacts& r = rules[i];
    const uint32_t slot = i % 2;
    EXPECT_EQ(r.verdict, RuleVerdict::Queue) << i;
    EXPECT_TRUE(r.compatQueue) << i;
    EXPECT_EQ(r.queueNum, 160 + slot) << i;
    EXPECT_EQ(r.queueTotal, 1) << i;
    EXPECT_FALSE(r.queueBypass) << i;
    ASSERT_TRUE(r.hashCondition) << i;
    EXPECT_EQ(*r.hashCondition, (ConnHash{true, 2, 0})) << i;
    EXPECT_EQ(r.hashSlot, slot) << i;
    EXPECT_TRUE(r.otherCondition) << i;
    EXPECT_FALSE(r.queueHash) << i;
  }
  EXPECT_EQ(rules[0].family, "ip");
  EXPECT_EQ(rules[4].family, "ip6");
}

// A hash compared with something other than equality is a condition we do not read.
TEST(RuleDecoderSpread, HashComparedOtherwiseIsOnlyACondition) {
  kernel::nft::RulePtr r = kernel::nft::newRule("t", "c");
  nftnl_expr* h = nftnl_expr_alloc("hash");
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_TYPE, NFT_HASH_SYM);
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_DREG, NFT_REG_1);
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_MODULUS, 4);
  nftnl_rule_add_expr(r.get(), h);
  const uint32_t one = 1;
  nftnl_rule_add_expr(r.get(), kernel::nft::cmpExpr(NFT_CMP_GT, &one, sizeof one));
  const RuleFacts f = decoded(r.get());
  EXPECT_FALSE(f.hashCondition);
  EXPECT_TRUE(f.otherCondition);
}

// `queue to jhash ip saddr . tcp sport mod 4 offset 8` (nft's Jenkins hash of chosen fields):
// queues 8-11, not symmetric.
TEST(RuleDecoderSpread, QueueToJhashIsNotSymmetric) {
  kernel::nft::RulePtr r = kernel::nft::newRule("t", "c");
  nftnl_expr* h = nftnl_expr_alloc("hash");
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_SREG, NFT_REG_1);
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_LEN, 8);
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_DREG, NFT_REG_1);
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_MODULUS, 4);
  nftnl_expr_set_u32(h, NFTNL_EXPR_HASH_OFFSET, 8);
  nftnl_rule_add_expr(r.get(), h);
  nftnl_expr* q = nftnl_expr_alloc("queue");
  nftnl_expr_set_u32(q, NFTNL_EXPR_QUEUE_SREG_QNUM, NFT_REG_1);
  nftnl_rule_add_expr(r.get(), q);
  const RuleFacts f = decoded(r.get(), "inet");
  EXPECT_EQ(f.verdict, RuleVerdict::Queue);
  EXPECT_EQ(f.queueNum, 8);
  EXPECT_EQ(f.queueTotal, 4);
  ASSERT_TRUE(f.queueHash);
  EXPECT_EQ(*f.queueHash, (ConnHash{false, 4, 8}));
}

// `queue to` a register no hash wrote (a map, numgen): no queue is known to be used.
TEST(RuleDecoderSpread, QueueToAnotherRegisterNamesNoQueue) {
  kernel::nft::RulePtr r = kernel::nft::newRule("t", "c");
  nftnl_expr* q = nftnl_expr_alloc("queue");
  nftnl_expr_set_u32(q, NFTNL_EXPR_QUEUE_SREG_QNUM, NFT_REG_1);
  nftnl_rule_add_expr(r.get(), q);
  const RuleFacts f = decoded(r.get(), "inet");
  EXPECT_EQ(f.verdict, RuleVerdict::Queue);
  EXPECT_EQ(f.queueTotal, 0);
  EXPECT_FALSE(f.queueHash);
}

// xt target or match with an info blob of `T` (libnftnl takes ownership of the copy).
template <typename T>
nftnl_expr* compat(const char* kind, const char* name, uint32_t rev, const T& blob) {
  void* info = std::calloc(1, sizeof blob);
  if (info == nullptr) std::abort();
  std::memcpy(info, &blob, sizeof blob);
  const bool target = std::strcmp(kind, "target") == 0;
  const auto attr = [target](int tg, int mt) { return static_cast<uint16_t>(target ? tg : mt); };
  nftnl_expr* e = nftnl_expr_alloc(kind);
  nftnl_expr_set_str(e, attr(NFTNL_EXPR_TG_NAME, NFTNL_EXPR_MT_NAME), name);
  nftnl_expr_set_u32(e, attr(NFTNL_EXPR_TG_REV, NFTNL_EXPR_MT_REV), rev);
  nftnl_expr_set(e, attr(NFTNL_EXPR_TG_INFO, NFTNL_EXPR_MT_INFO), info, sizeof blob);
  return e;
}

// iptables -t mangle -A FORWARD -p tcp --dport 21 -j HMARK --hmark-tuple
// src,dst,sport,dport,proto --hmark-mod 2 --hmark-offset 160 --hmark-rnd 0xf7a1, as
// iptables-nft 1.8.9 stores it: native tcp and port match, the HMARK target (revision 0, no
// verdict).
TEST(RuleDecoderSpread, HmarkTargetSetsTheMarkFromASymmetricHash) {
  kernel::nft::RulePtr r = kernel::nft::newRule("mangle", "FORWARD");
  kernel::nft::addTcpPortMatch(r.get(), 2, 21);
  xt_hmark_info h{};
  std::memset(&h.src_mask, 0xff, sizeof h.src_mask);
  std::memset(&h.dst_mask, 0xff, sizeof h.dst_mask);
  h.port_mask.v32 = 0xffffffff;
  h.proto_mask = 0xff;
  h.flags = XT_HMARK_FLAG(XT_HMARK_METHOD_L3_4) | XT_HMARK_FLAG(XT_HMARK_MODULUS) |
            XT_HMARK_FLAG(XT_HMARK_OFFSET) | XT_HMARK_FLAG(XT_HMARK_RND);
  h.hashrnd = 0xf7a1;
  h.hmodulus = 2;
  h.hoffset = 160;
  nftnl_rule_add_expr(r.get(), compat("target", "HMARK", 0, h));
  const RuleFacts f = decoded(r.get());
  ASSERT_TRUE(f.packetMarkSet);
  EXPECT_EQ(*f.packetMarkSet, (ConnHash{true, 2, 160}));
  EXPECT_EQ(f.verdict, RuleVerdict::None);
  EXPECT_FALSE(f.otherCondition);

  h.src_mask.ip = 0x00ffffff;  // --hmark-src-prefix 24 alone: the directions differ
  kernel::nft::RulePtr lopsided = kernel::nft::newRule("mangle", "FORWARD");
  nftnl_rule_add_expr(lopsided.get(), compat("target", "HMARK", 0, h));
  EXPECT_FALSE(decoded(lopsided.get()).packetMarkSet->symmetric);
}

// The rule of one queue after it: -m mark --mark 0xa0 -j NFQUEUE --queue-num 160. iptables-nft
// 1.8.8 and later store `-m mark` natively (meta mark, cmp); older ones as the xt mark match.
TEST(RuleDecoderSpread, MarkRuleNamesItsMarkAndQueue) {
  xt_NFQ_info_v3 q{};
  q.queuenum = 160;
  q.queues_total = 1;
  for (bool native : {true, false}) {
    kernel::nft::RulePtr r = kernel::nft::newRule("mangle", "FORWARD");
    kernel::nft::addTcpPortMatch(r.get(), 2, 21);
    if (native) {
      nftnl_expr* m = nftnl_expr_alloc("meta");
      nftnl_expr_set_u32(m, NFTNL_EXPR_META_KEY, NFT_META_MARK);
      nftnl_expr_set_u32(m, NFTNL_EXPR_META_DREG, NFT_REG_1);
      nftnl_rule_add_expr(r.get(), m);
      const uint32_t mark = 0xa0;
      nftnl_rule_add_expr(r.get(), kernel::nft::cmpExpr(NFT_CMP_EQ, &mark, sizeof mark));
    } else {
      const xt_mark_mtinfo1 m{0xa0, 0xffffffff, 0};
      nftnl_rule_add_expr(r.get(), compat("match", "mark", 1, m));
    }
    nftnl_rule_add_expr(r.get(), compat("target", "NFQUEUE", 3, q));
    const RuleFacts f = decoded(r.get());
    EXPECT_EQ(f.packetMark, 0xa0u) << native;
    EXPECT_TRUE(f.otherCondition) << native;
    EXPECT_EQ(f.verdict, RuleVerdict::Queue) << native;
    EXPECT_EQ(f.queueNum, 160) << native;
    EXPECT_EQ(f.queueTotal, 1) << native;
  }
}

// Without a spread nothing of the above is set: `queue num 3-4 bypass`.
TEST(RuleDecoderSpread, PlainQueueRangeHasNoHash) {
  const std::vector<RuleFacts> rules =
      installedRules(queueRuleSpec(3, 2, {21}, true), QueueForm::Nft);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].queueNum, 3);
  EXPECT_EQ(rules[0].queueTotal, 2);
  EXPECT_FALSE(rules[0].queueHash);
  EXPECT_FALSE(rules[0].hashCondition);
  EXPECT_FALSE(rules[0].otherCondition);
}

}  // namespace
}  // namespace ftpalg::test
