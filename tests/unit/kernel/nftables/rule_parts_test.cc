// The shared pieces of the queueing and helper rule tables (the expressions are checked where
// the rules are: queue_rule_messages_test.cc, helper_rule_messages_test.cc).
#include "kernel/nftables/rule_parts.h"

#include <gtest/gtest.h>
#include <linux/netfilter.h>

#include <array>

#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {
namespace {

using kernel::nft::NftBatch;

TEST(RuleParts, DeleteTableIsOneAcknowledgedMessageOfItsFamily) {
  std::array<char, 4096> buf{};
  NftBatch batch(buf, 50);
  ASSERT_TRUE(kernel::nft::appendDeleteTable(batch, "ftpalg_queue", NFPROTO_IPV6,
                                             "nft: delete table ip6 ftpalg_queue"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = batchMessages(batch);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[1]->nlmsg_type, nftMsgType(NFT_MSG_DELTABLE));
  EXPECT_EQ(msgs[1]->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(msgs[1]->nlmsg_seq, 51u);
  EXPECT_EQ(nfgenFamily(msgs[1]), NFPROTO_IPV6);
  EXPECT_EQ(attrText(findAttr(attrsOf(msgs[1]), NFTA_TABLE_NAME)), "ftpalg_queue");
  EXPECT_EQ(batch.label(51), "nft: delete table ip6 ftpalg_queue");
}

}  // namespace
}  // namespace ftpalg::test
