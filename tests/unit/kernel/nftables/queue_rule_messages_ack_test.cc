// The pure-ACK bypass rules of ftpalgd's queueing tables (queue_rules_text.h, "ACK bypass"),
// checked by parsing the messages back: marked sessions first, then the accept rules for the
// two pure-ACK forms, then the plain queue rules; the largest configuration fits one batch.
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

QueueRuleSpec bypassing(std::vector<uint16_t> ports) {
  QueueRuleSpec s = queueRuleSpec(0, 1, std::move(ports), false);
  s.sessionMark = 0xf7a2;
  s.ackBypass = true;
  return s;
}

// tcp dport 21, no FIN/SYN/RST, doff `doffHex`, [nfproto], length field == `lenHex`, accept.
std::vector<std::string> ackRule(const std::string& nfproto, const std::string& lenField,
                                 const std::string& doffHex, const std::string& lenHex) {
  std::vector<std::string> r = {"meta l4proto -> r1", "cmp eq r1 06", "payload th+2/2 -> r1",
                                "cmp eq r1 0015"};
  for (const std::string& e :
       {std::string("payload th+13/1 -> r1"), std::string("bitwise r1 & 07 ^ 00 -> r1"),
        std::string("cmp eq r1 00"), std::string("payload th+12/1 -> r1"),
        std::string("bitwise r1 & f0 ^ 00 -> r1"), "cmp eq r1 " + doffHex}) {
    r.push_back(e);
  }
  if (!nfproto.empty()) {
    r.push_back("meta key15 -> r1");
    r.push_back("cmp eq r1 " + nfproto);
  }
  r.push_back(lenField);
  r.push_back("cmp eq r1 " + lenHex);
  r.push_back("immediate");
  return r;
}

TEST(QueueRuleMessagesAckBypass, NftFormMarkedThenPureAcksThenQueue) {
  std::vector<char> buf(256 * 1024);
  NftBatch batch(buf, 1);
  ASSERT_TRUE(appendQueueRules(batch, bypassing({21}), QueueForm::Nft, "nft: q"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  // BEGIN, table, chain, 2 marked, 2 dirs x 2 forms x 2 families, 2 queue, END
  ASSERT_EQ(msgs.size(), 16u);
  EXPECT_EQ(ruleExprs(msgs[5]), ackRule("02", "payload base1+2/2 -> r1", "50", "0028"));
  EXPECT_EQ(ruleExprs(msgs[6]), ackRule("0a", "payload base1+4/2 -> r1", "50", "0014"));
  EXPECT_EQ(ruleExprs(msgs[7]), ackRule("02", "payload base1+2/2 -> r1", "80", "0034"));
  EXPECT_EQ(ruleExprs(msgs[8]), ackRule("0a", "payload base1+4/2 -> r1", "80", "0020"));
  EXPECT_EQ(ruleExprs(msgs[3]).back(), "queue 0+1 flags 0");
  EXPECT_EQ(ruleExprs(msgs[14]).back(), "queue 0+1 flags 0");
}

TEST(QueueRuleMessagesAckBypass, IptablesFormChecksTheTableFamilyOnly) {
  std::vector<char> buf(256 * 1024);
  NftBatch batch(buf, 1);
  ASSERT_TRUE(appendQueueRules(batch, bypassing({21}), QueueForm::Iptables, "nft: q"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  ASSERT_EQ(msgs.size(), 22u);  // BEGIN, (table, chain, 2 marked, 4 pure ACK, 2 queue) x 2, END
  EXPECT_EQ(ruleExprs(msgs[5]), ackRule("", "payload base1+2/2 -> r1", "50", "0028"));
  EXPECT_EQ(ruleExprs(msgs[15]), ackRule("", "payload base1+4/2 -> r1", "50", "0014"));
}

TEST(QueueRuleMessagesAckBypass, WithoutASessionMarkEverythingIsQueued) {
  std::vector<char> buf(256 * 1024);
  NftBatch batch(buf, 1);
  QueueRuleSpec s = bypassing({21});
  s.sessionMark = 0;
  ASSERT_TRUE(appendQueueRules(batch, s, QueueForm::Nft, "nft: q"));
  ASSERT_TRUE(batch.finish());
  EXPECT_EQ(batchMessages(batch).size(), 6u);  // BEGIN, table, chain, 2 queue rules, END
}

TEST(QueueRuleMessagesAckBypass, EightControlPortsFitOneBatch) {
  std::vector<char> buf(256 * 1024);
  NftBatch batch(buf, 1);
  ASSERT_TRUE(appendQueueRules(batch, bypassing({21, 2121, 2122, 2123, 2124, 2125, 2126, 2127}),
                               QueueForm::Iptables, "nft: q"));
  ASSERT_TRUE(batch.finish());
  EXPECT_EQ(batch.messageCount(), 132u);
}

}  // namespace
}  // namespace ftpalg::test
