// The messages PinholeKeeper sends: appendEnsure (adoption and repair of the pinhole table
// without losing its elements) and appendReplace, parsed back with libnftnl (no kernel needed).
#include <gtest/gtest.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/pinhole_messages.h"
#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {

using namespace ftpalg::kernel;       // NOLINT(google-build-using-namespace)
using namespace ftpalg::kernel::nft;  // NOLINT(google-build-using-namespace)
namespace {

std::vector<const nlmsghdr*> messages(const NftBatch& batch) {
  int left = -1;
  std::vector<const nlmsghdr*> out = batchMessages(batch, &left);
  EXPECT_EQ(left, 0);
  return out;
}

// The table comment (NFTNL_UDATA_TABLE_COMMENT) of a NEWTABLE message, "" without one.
std::string tableComment(const nlmsghdr* nlh) {
  nftnl_table* t = nftnl_table_alloc();
  EXPECT_EQ(nftnl_table_nlmsg_parse(nlh, t), 0);
  uint32_t len = 0;
  const void* ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
  std::string out;
  if (ud != nullptr) {
    std::array<const nftnl_udata*, NFTNL_UDATA_TABLE_MAX + 1> tb{};
    nftnl_udata_parse(
        ud, len,
        [](const nftnl_udata* a, void* arg) -> int {
          auto* o = static_cast<std::array<const nftnl_udata*, NFTNL_UDATA_TABLE_MAX + 1>*>(arg);
          if (nftnl_udata_type(a) <= NFTNL_UDATA_TABLE_MAX) (*o)[nftnl_udata_type(a)] = a;
          return 0;
        },
        &tb);
    if (tb[NFTNL_UDATA_TABLE_COMMENT] != nullptr) {
      out = static_cast<const char*>(nftnl_udata_get(tb[NFTNL_UDATA_TABLE_COMMENT]));
    }
  }
  nftnl_table_free(t);
  return out;
}

std::vector<uint16_t> types(const std::vector<const nlmsghdr*>& msgs) {
  std::vector<uint16_t> out;
  for (const nlmsghdr* m : msgs) out.push_back(m->nlmsg_type);
  return out;
}

TEST(AppendEnsure, KeepsTheTableAndItsSetsAndReplacesTheRulesInOneTransaction) {
  std::vector<char> buf(64 * 1024);
  PinholeConfig cfg;
  cfg.table = "ftpalg_q3";
  NftBatch batch(buf, 1);
  ASSERT_TRUE(appendEnsure(batch, cfg, "ftpalgd pinholes, layout 0123"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = messages(batch);
  const auto t = types(msgs);
  // No table or set deletion: the elements stay.
  for (uint16_t type : t) {
    EXPECT_NE(type, nftMsgType(NFT_MSG_DELTABLE));
    EXPECT_NE(type, nftMsgType(NFT_MSG_DELSET));
  }
  ASSERT_GE(msgs.size(), 3u);
  EXPECT_EQ(t[1], nftMsgType(NFT_MSG_NEWTABLE));
  EXPECT_EQ(tableComment(msgs[1]), "ftpalgd pinholes, layout 0123");
  // The three chains are flushed after they are (re)declared and before any rule is added.
  std::vector<std::string> flushed;
  size_t lastChain = 0, firstFlush = 0, firstRule = 0;
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (t[i] == nftMsgType(NFT_MSG_NEWCHAIN)) lastChain = i;
    if (t[i] == nftMsgType(NFT_MSG_DELRULE)) {
      if (firstFlush == 0) firstFlush = i;
      nftnl_rule* r = nftnl_rule_alloc();
      ASSERT_EQ(nftnl_rule_nlmsg_parse(msgs[i], r), 0);
      EXPECT_STREQ(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "ftpalg_q3");
      EXPECT_FALSE(nftnl_rule_is_set(r, NFTNL_RULE_HANDLE));  // the whole chain
      flushed.emplace_back(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
      nftnl_rule_free(r);
    }
    if (t[i] == nftMsgType(NFT_MSG_NEWRULE) && firstRule == 0) firstRule = i;
  }
  EXPECT_EQ(flushed, (std::vector<std::string>{"pre", "pin", "post"}));
  EXPECT_LT(lastChain, firstFlush);
  EXPECT_LT(firstFlush, firstRule);
}

TEST(AppendEnsure, BuildsTheSameObjectsAsAppendInstall) {
  std::vector<char> a(64 * 1024), b(64 * 1024);
  PinholeConfig cfg;
  NftBatch install(a, 1), ensure(b, 1);
  ASSERT_TRUE(appendInstall(install, cfg) && install.finish());
  ASSERT_TRUE(appendEnsure(ensure, cfg, "") && ensure.finish());
  auto count = [](const std::vector<uint16_t>& t, uint16_t msg) {
    size_t n = 0;
    for (uint16_t x : t) n += x == nftMsgType(msg) ? size_t{1} : size_t{0};
    return n;
  };
  const auto ti = types(messages(install)), te = types(messages(ensure));
  for (uint16_t msg : {NFT_MSG_NEWSET, NFT_MSG_NEWCHAIN, NFT_MSG_NEWRULE}) {
    EXPECT_EQ(count(ti, msg), count(te, msg)) << msg;
  }
  EXPECT_EQ(count(te, NFT_MSG_NEWTABLE), 1u);
  EXPECT_EQ(tableComment(messages(ensure)[1]), "");
}

TEST(AppendReplace, DeletesTheOldTableAndCommentsTheNewOne) {
  std::vector<char> buf(64 * 1024);
  PinholeConfig cfg;
  NftBatch batch(buf, 1);
  ASSERT_TRUE(appendReplace(batch, cfg, "ftpalgd pinholes, layout ab"));
  ASSERT_TRUE(batch.finish());
  const auto msgs = messages(batch);
  const auto t = types(msgs);
  ASSERT_GE(msgs.size(), 4u);
  EXPECT_EQ(t[1], nftMsgType(NFT_MSG_NEWTABLE));
  EXPECT_EQ(t[2], nftMsgType(NFT_MSG_DELTABLE));
  EXPECT_EQ(t[3], nftMsgType(NFT_MSG_NEWTABLE));
  EXPECT_EQ(tableComment(msgs[3]), "ftpalgd pinholes, layout ab");
}

}  // namespace
}  // namespace ftpalg::test
