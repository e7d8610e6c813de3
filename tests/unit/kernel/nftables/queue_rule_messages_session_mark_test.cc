// --install-rules in fail-open mode: the rules of rewritten sessions (ct mark == sessionMark,
// queued without bypass) precede the bypass rules, in both forms
// (src/kernel/nftables/queue_rule_messages.cc), checked by parsing the messages back.
#include <gtest/gtest.h>
#include <linux/netfilter.h>

#include <string>
#include <vector>

#include "kernel/nftables/queue_rule_messages.h"
#include "tests/support/queue_rule_spec.h"
#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {
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
}  // namespace ftpalg::test
