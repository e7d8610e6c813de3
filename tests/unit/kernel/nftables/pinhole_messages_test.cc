// nf_tables message building for pinhole mode, checked by parsing the messages back with
// libnftnl (no kernel needed).
#include "kernel/nftables/pinhole_messages.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "ftpalg/core/types.h"
#include "kernel/nftables/nft_batch.h"
#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {

using namespace ftpalg::kernel;       // NOLINT(google-build-using-namespace)
using namespace ftpalg::kernel::nft;  // NOLINT(google-build-using-namespace)
namespace {

core::IpAddr ip(const char* text) {
  core::IpAddr a;
  EXPECT_TRUE(core::parseIp(text, a)) << text;
  return a;
}

core::Endpoint ep(const char* text, uint16_t port) { return core::Endpoint{ip(text), port}; }

// The messages of a finished batch, which must hold nothing but whole messages.
std::vector<const nlmsghdr*> messages(const NftBatch& batch) {
  int left = -1;
  std::vector<const nlmsghdr*> out = batchMessages(batch, &left);
  EXPECT_EQ(left, 0);
  return out;
}

struct ParsedElem {
  std::string table;
  std::string set;
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  uint64_t timeoutMs = 0;
};

ParsedElem parseElem(const nlmsghdr* nlh) {
  ParsedElem out;
  nftnl_set* s = nftnl_set_alloc();
  EXPECT_EQ(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
  out.table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
  out.set = nftnl_set_get_str(s, NFTNL_SET_NAME);
  nftnl_set_elems_iter* it = nftnl_set_elems_iter_create(s);
  int n = 0;
  for (nftnl_set_elem* e = nftnl_set_elems_iter_next(it); e != nullptr;
       e = nftnl_set_elems_iter_next(it)) {
    ++n;
    uint32_t len = 0;
    const auto* k = static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len));
    out.key.assign(k, k + len);
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA)) {
      const auto* d = static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len));
      out.data.assign(d, d + len);
    }
    out.timeoutMs = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
  }
  EXPECT_EQ(n, 1);
  nftnl_set_elems_iter_destroy(it);
  nftnl_set_free(s);
  return out;
}

std::vector<uint8_t> bytesOf(const PackedKey& k) { return {k.view().begin(), k.view().end()}; }

TEST(PackedKey, Ipv4KeyIsThreeFourBytePaddedFields) {
  const PackedKey k = packAddrAddrPort(ip("198.18.1.2"), ip("198.18.2.3"), 0x1388);
  EXPECT_EQ(bytesOf(k), (std::vector<uint8_t>{198, 18, 1, 2, 198, 18, 2, 3, 0x13, 0x88, 0, 0}));
  const PackedKey v = packAddrPort(ip("198.18.2.3"), 21);
  EXPECT_EQ(bytesOf(v), (std::vector<uint8_t>{198, 18, 2, 3, 0, 21, 0, 0}));
}

TEST(PackedKey, Ipv6KeyIs36Bytes) {
  const PackedKey k = packAddrAddrPort(ip("2001:db8::1"), ip("2001:db8::2"), 65535);
  ASSERT_EQ(k.len, 36u);
  EXPECT_EQ(k.bytes[0], 0x20);
  EXPECT_EQ(k.bytes[15], 1);
  EXPECT_EQ(k.bytes[31], 2);
  EXPECT_EQ(k.bytes[32], 0xff);
  EXPECT_EQ(k.bytes[33], 0xff);
  EXPECT_EQ(k.bytes[34], 0);
  EXPECT_EQ(packAddrPort(ip("2001:db8::2"), 1).len, 20u);
}

TEST(NftBatch, FramesMessagesWithBeginAndEnd) {
  std::array<char, 4096> buf{};
  PinholeConfig cfg;
  NftBatch batch(buf, 100);
  core::Expectation x;
  x.src = ep("198.18.1.2", 0);
  x.dst = ep("198.18.2.2", 5000);
  x.natTo = x.dst;
  ASSERT_TRUE(appendAdmit(batch, cfg, x).ok());
  ASSERT_TRUE(batch.finish());
  const auto msgs = messages(batch);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
  EXPECT_EQ(msgs[0]->nlmsg_seq, 100u);
  const auto* gen = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(msgs[0]));
  EXPECT_EQ(ntohs(gen->res_id), NFNL_SUBSYS_NFTABLES);
  EXPECT_EQ(msgs[1]->nlmsg_seq, 101u);
  EXPECT_EQ(msgs[1]->nlmsg_flags & NLM_F_ACK, NLM_F_ACK);
  EXPECT_EQ(msgs[2]->nlmsg_type, NFNL_MSG_BATCH_END);
  EXPECT_EQ(msgs[2]->nlmsg_seq, 102u);
  EXPECT_EQ(batch.firstSeq(), 101u);
  EXPECT_EQ(batch.messageCount(), 1u);
  EXPECT_EQ(batch.label(101), "nft: add element to pin4");
  EXPECT_EQ(batch.label(102), "");
}

// An expectation from src to dst, the data connection reaching natTo (dst when not given).
core::Expectation expectation(core::Endpoint src, core::Endpoint dst,
                              std::optional<core::Endpoint> natTo = std::nullopt) {
  core::Expectation x;
  x.src = src;
  x.dst = dst;
  x.natTo = natTo.value_or(dst);
  return x;
}

core::Expectation withSourceNat(core::Expectation x, const char* to) {
  x.hasSrcNat = true;
  x.srcNatTo = ip(to);
  return x;
}

// One appendAdmit into a fresh batch (first sequence number 1), finished and read back.
class AppendAdmit : public ::testing::Test {
 protected:
  void admit(const core::Expectation& x) {
    ASSERT_TRUE(appendAdmit(batch_, cfg_, x).ok());
    ASSERT_TRUE(batch_.finish());
    msgs_ = messages(batch_);
  }

  std::array<char, 4096> buf_{};
  PinholeConfig cfg_;
  NftBatch batch_{buf_, 1};
  std::vector<const nlmsghdr*> msgs_;
};

TEST_F(AppendAdmit, WithoutNatAddsOnlyThePinElement) {
  cfg_.table = "t1";
  cfg_.timeoutMs = 1234;
  const core::Expectation x = expectation(ep("198.18.1.2", 0), ep("198.18.2.2", 5000));
  ASSERT_NO_FATAL_FAILURE(admit(x));
  ASSERT_EQ(msgs_.size(), 3u);
  EXPECT_EQ(msgs_[1]->nlmsg_type, nftMsgType(NFT_MSG_NEWSETELEM));
  EXPECT_EQ(msgs_[1]->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE);
  const ParsedElem e = parseElem(msgs_[1]);
  EXPECT_EQ(e.table, "t1");
  EXPECT_EQ(e.set, "pin4");
  EXPECT_EQ(e.key, bytesOf(packAddrAddrPort(x.src.addr, x.dst.addr, 5000)));
  EXPECT_TRUE(e.data.empty());
  EXPECT_EQ(e.timeoutMs, 1234u);
}

TEST_F(AppendAdmit, WithNatAddsPinOnTargetAndMapFromAnnounced) {
  const core::Expectation x =
      expectation(ep("2001:db8:2::2", 20),
                  ep("2001:db8:2::1", 40000),  // the gateway's public address, as announced
                  ep("2001:db8:1::2", 6000));  // the client behind it
  ASSERT_NO_FATAL_FAILURE(admit(x));
  ASSERT_EQ(msgs_.size(), 5u);  // begin, pin, nat, natuse (single use of the nat element), end
  const ParsedElem pin = parseElem(msgs_[1]);
  EXPECT_EQ(pin.set, "pin6");
  EXPECT_EQ(pin.key, bytesOf(packAddrAddrPort(x.src.addr, x.natTo.addr, 6000)));
  const ParsedElem map = parseElem(msgs_[2]);
  EXPECT_EQ(map.set, "nat6");
  EXPECT_EQ(map.key, bytesOf(packAddrAddrPort(x.src.addr, x.dst.addr, 40000)));
  EXPECT_EQ(map.data, bytesOf(packAddrPort(x.natTo.addr, 6000)));
  EXPECT_EQ(map.timeoutMs, cfg_.timeoutMs);
  EXPECT_EQ(batch_.label(batch_.firstSeq() + 1), "nft: add element to nat6");
}

TEST_F(AppendAdmit, SourceNatKeysOnTheDialledTupleAndMapsToTheAddress) {
  // Active mode, server 198.19.1.2 behind DNAT (public 198.18.0.1), client 198.18.1.2.
  const core::Expectation x =
      withSourceNat(expectation(ep("198.19.1.2", 0), ep("198.18.1.2", 50000)), "198.18.0.1");
  ASSERT_NO_FATAL_FAILURE(admit(x));
  ASSERT_EQ(msgs_.size(), 4u);  // begin, pin, snat, end: no DNAT element
  const ParsedElem pin = parseElem(msgs_[1]);
  EXPECT_EQ(pin.set, "pin4");
  const ParsedElem snat = parseElem(msgs_[2]);
  EXPECT_EQ(snat.set, "snat4");
  EXPECT_EQ(snat.key, pin.key);  // no DNAT: the dialled tuple is the pin tuple
  EXPECT_EQ(snat.data, bytesOf(packAddr(x.srcNatTo)));
  EXPECT_EQ(snat.data.size(), 4u);
  EXPECT_EQ(snat.timeoutMs, cfg_.timeoutMs);
  EXPECT_EQ(batch_.label(batch_.firstSeq() + 1), "nft: add element to snat4");
}

TEST_F(AppendAdmit, SourceNatWithDnatAddsThreeElements) {
  const core::Expectation x = withSourceNat(
      expectation(ep("2001:db8:2::2", 0), ep("2001:db8:2::1", 40000), ep("2001:db8:1::2", 6000)),
      "2001:db8:2::9");
  ASSERT_NO_FATAL_FAILURE(admit(x));
  ASSERT_EQ(msgs_.size(), 6u);  // and natuse before the end
  const ParsedElem snat = parseElem(msgs_[3]);
  EXPECT_EQ(snat.set, "snat6");
  // The nat map's key (as dialled, before DNAT), not the pin's (after it).
  EXPECT_EQ(snat.key, bytesOf(packAddrAddrPort(x.src.addr, x.dst.addr, 40000)));
  EXPECT_EQ(snat.data, bytesOf(packAddr(x.srcNatTo)));
}

// An expectation appendAdmit refuses with EINVAL, adding no message. Addresses as text, so the
// table is built before any test runs without parsing.
struct RejectCase {
  const char* name;
  const char* src;
  uint16_t srcPort;
  const char* dst;
  uint16_t dstPort;
  const char* natTo;  // nullptr: dst
  uint16_t natToPort;
  const char* srcNatTo;  // nullptr: no source NAT
};

void PrintTo(const RejectCase& c, std::ostream* os) { *os << c.name; }

class AppendAdmitRejects : public ::testing::TestWithParam<RejectCase> {};

TEST_P(AppendAdmitRejects, WithEinvalAndAddsNothing) {
  const RejectCase& c = GetParam();
  core::Expectation x;  // "EmptyExpectation": all zero
  if (c.src != nullptr) {
    x = expectation(ep(c.src, c.srcPort), ep(c.dst, c.dstPort),
                    c.natTo == nullptr ? std::nullopt
                                       : std::optional<core::Endpoint>(ep(c.natTo, c.natToPort)));
  }
  if (c.srcNatTo != nullptr) x = withSourceNat(x, c.srcNatTo);
  std::array<char, 4096> buf{};
  PinholeConfig cfg;
  NftBatch batch(buf, 1);
  EXPECT_EQ(appendAdmit(batch, cfg, x).err(), EINVAL) << c.name;
  EXPECT_EQ(batch.messageCount(), 0u) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    AppendAdmit, AppendAdmitRejects,
    ::testing::Values(
        RejectCase{"SourceNatOfAnotherFamily", "198.19.1.2", 0, "198.18.1.2", 50000, nullptr, 0,
                   "2001:db8::1"},
        RejectCase{"MixedFamilies", "198.18.1.2", 0, "2001:db8::1", 5000, nullptr, 0, nullptr},
        RejectCase{"ZeroDestinationPort", "198.18.1.2", 0, "198.18.2.2", 0, nullptr, 0, nullptr},
        RejectCase{"ZeroNatTargetPort", "198.18.1.2", 0, "198.18.2.2", 5000, "198.18.2.3", 0,
                   nullptr},
        RejectCase{"EmptyExpectation", nullptr, 0, nullptr, 0, nullptr, 0, nullptr}),
    [](const ::testing::TestParamInfo<RejectCase>& p) { return std::string(p.param.name); });

std::vector<std::string> exprNames(const nlmsghdr* nlh) {
  std::vector<std::string> names;
  nftnl_rule* r = nftnl_rule_alloc();
  EXPECT_EQ(nftnl_rule_nlmsg_parse(nlh, r), 0);
  nftnl_expr_iter* it = nftnl_expr_iter_create(r);
  for (nftnl_expr* e = nftnl_expr_iter_next(it); e != nullptr; e = nftnl_expr_iter_next(it)) {
    std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    if (name == "dynset") {
      EXPECT_EQ(nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_OP), uint32_t{NFT_DYNSET_OP_DELETE});
    }
    if (name == "nat") {
      // Named by type; a source NAT takes the address only, the source port is kept.
      const bool snat = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_SNAT;
      EXPECT_EQ(nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_PROTO_MIN), !snat);
      name = snat ? "snat" : "dnat";
    }
    names.push_back(std::move(name));
  }
  nftnl_expr_iter_destroy(it);
  nftnl_rule_free(r);
  return names;
}

TEST(AppendInstall, ReplacesTheTableWithSetsChainsAndRules) {
  std::vector<char> buf(64 * 1024);
  PinholeConfig cfg;
  NftBatch batch(buf, 1);
  ASSERT_TRUE(appendInstall(batch, cfg));
  ASSERT_TRUE(batch.finish());
  const auto msgs = messages(batch);
  const std::vector<uint16_t> want = {
      NFNL_MSG_BATCH_BEGIN,         nftMsgType(NFT_MSG_NEWTABLE),
      nftMsgType(NFT_MSG_DELTABLE), nftMsgType(NFT_MSG_NEWTABLE),
      nftMsgType(NFT_MSG_NEWSET),   nftMsgType(NFT_MSG_NEWSET),
      nftMsgType(NFT_MSG_NEWSET),   nftMsgType(NFT_MSG_NEWSET),
      nftMsgType(NFT_MSG_NEWSET),   nftMsgType(NFT_MSG_NEWSET),
      nftMsgType(NFT_MSG_NEWCHAIN), nftMsgType(NFT_MSG_NEWCHAIN),
      nftMsgType(NFT_MSG_NEWCHAIN), nftMsgType(NFT_MSG_NEWRULE),
      nftMsgType(NFT_MSG_NEWRULE),  nftMsgType(NFT_MSG_NEWRULE),
      nftMsgType(NFT_MSG_NEWRULE),  nftMsgType(NFT_MSG_NEWRULE),
      nftMsgType(NFT_MSG_NEWRULE),  nftMsgType(NFT_MSG_NEWSET),
      nftMsgType(NFT_MSG_NEWSET),   nftMsgType(NFT_MSG_NEWRULE),
      nftMsgType(NFT_MSG_NEWRULE),  nftMsgType(NFT_MSG_NEWRULE),
      nftMsgType(NFT_MSG_NEWRULE),  NFNL_MSG_BATCH_END};  // from 19: single use of the nat maps
  ASSERT_EQ(msgs.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(msgs[i]->nlmsg_type, want[i]) << i;
  }

  // pin4: 12-byte key, timeout + eval (the rule deletes from it); nat6: 36 -> 20 bytes;
  // snat4: 12 -> 4 bytes, snat6: 36 -> 16 bytes.
  nftnl_set* s = nftnl_set_alloc();
  ASSERT_EQ(nftnl_set_nlmsg_parse(msgs[4], s), 0);
  EXPECT_STREQ(nftnl_set_get_str(s, NFTNL_SET_NAME), "pin4");
  EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 12u);
  EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), uint32_t{NFT_SET_TIMEOUT | NFT_SET_EVAL});
  nftnl_set_free(s);
  s = nftnl_set_alloc();
  ASSERT_EQ(nftnl_set_nlmsg_parse(msgs[8], s), 0);
  EXPECT_STREQ(nftnl_set_get_str(s, NFTNL_SET_NAME), "nat6");
  EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 36u);
  EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN), 20u);
  EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), uint32_t{NFT_SET_MAP | NFT_SET_TIMEOUT});
  nftnl_set_free(s);
  for (const auto& [idx, name, keyLen, dataLen] :
       {std::tuple{6, "snat4", 12u, 4u}, std::tuple{9, "snat6", 36u, 16u}}) {
    s = nftnl_set_alloc();
    ASSERT_EQ(nftnl_set_nlmsg_parse(msgs[static_cast<size_t>(idx)], s), 0);
    EXPECT_STREQ(nftnl_set_get_str(s, NFTNL_SET_NAME), name);
    EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), keyLen);
    EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN), dataLen);
    EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), uint32_t{NFT_SET_MAP | NFT_SET_TIMEOUT});
    nftnl_set_free(s);
  }
  nftnl_chain* c = nftnl_chain_alloc();
  ASSERT_EQ(nftnl_chain_nlmsg_parse(msgs[12], c), 0);
  EXPECT_STREQ(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "post");
  EXPECT_STREQ(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "nat");
  EXPECT_EQ(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), uint32_t{NF_INET_POST_ROUTING});
  EXPECT_EQ(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), 95);  // srcnat - 5
  nftnl_chain_free(c);

  const std::vector<std::string> pre = {"meta",    "cmp",     "meta",   "cmp", "payload",
                                        "payload", "payload", "lookup", "dnat"};
  // post: saddr from the header, the dialled destination and port from the conntrack
  const std::vector<std::string> post = {"meta", "cmp", "meta",   "cmp", "payload",
                                         "ct",   "ct",  "lookup", "snat"};
  const std::vector<std::string> pin = {"ct",        "bitwise", "cmp",     "meta",     "cmp",
                                        "meta",      "cmp",     "payload", "payload",  "payload",
                                        "lookup",    "payload", "payload", "payload",  "dynset",
                                        "immediate", "ct",      "counter", "immediate"};
  EXPECT_EQ(exprNames(msgs[13]), pre);
  EXPECT_EQ(exprNames(msgs[14]), pin);
  EXPECT_EQ(exprNames(msgs[15]), post);
  EXPECT_EQ(exprNames(msgs[16]), pre);
  EXPECT_EQ(exprNames(msgs[17]), pin);
  EXPECT_EQ(exprNames(msgs[18]), post);
}

TEST(AppendInstall, FailsCleanlyWhenTheBufferIsTooSmall) {
  std::array<char, 1024> buf{};
  PinholeConfig cfg;
  NftBatch batch(buf, 1);
  EXPECT_FALSE(appendInstall(batch, cfg));
  EXPECT_FALSE(batch.finish());
  EXPECT_FALSE(batch.ok());
}

// Single use of a data connection's NAT: sets natuse4/natuse6, then per family (v6 first: each
// rule is sent without NLM_F_APPEND, to the head of chain pre) a rule that takes the key's
// mark out and, before it, one that leaves the chain (no dnat) when the key has no mark.
TEST(AppendInstall, PreChainStartsWithTheSingleUseRules) {
  std::vector<char> buf(64 * 1024);
  PinholeConfig cfg;
  NftBatch batch(buf, 1);
  ASSERT_TRUE(appendInstall(batch, cfg));
  ASSERT_TRUE(batch.finish());
  const auto msgs = messages(batch);
  ASSERT_EQ(msgs.size(), 26u);
  for (const auto& [idx, name, keyLen] :
       {std::tuple{19, "natuse4", 12u}, std::tuple{20, "natuse6", 36u}}) {
    nftnl_set* s = nftnl_set_alloc();
    ASSERT_EQ(nftnl_set_nlmsg_parse(msgs[static_cast<size_t>(idx)], s), 0);
    EXPECT_STREQ(nftnl_set_get_str(s, NFTNL_SET_NAME), name);
    EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), keyLen);
    EXPECT_EQ(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), uint32_t{NFT_SET_TIMEOUT | NFT_SET_EVAL});
    nftnl_set_free(s);
  }
  const std::vector<std::string> use = {"meta",    "cmp",     "meta",    "cmp",
                                        "payload", "payload", "payload", "lookup",
                                        "payload", "payload", "payload", "dynset"};
  const std::vector<std::string> unused = {"meta",    "cmp",     "meta",   "cmp",      "payload",
                                           "payload", "payload", "lookup", "immediate"};
  for (const auto& [idx, set, inverted] :
       {std::tuple{21, "natuse6", false}, std::tuple{22, "natuse6", true},
        std::tuple{23, "natuse4", false}, std::tuple{24, "natuse4", true}}) {
    const nlmsghdr* nlh = msgs[static_cast<size_t>(idx)];
    EXPECT_EQ(nlh->nlmsg_flags & NLM_F_APPEND, 0) << idx;
    EXPECT_EQ(exprNames(nlh), inverted ? unused : use) << idx;
    nftnl_rule* r = nftnl_rule_alloc();
    ASSERT_EQ(nftnl_rule_nlmsg_parse(nlh, r), 0);
    EXPECT_STREQ(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "pre");
    nftnl_expr_iter* it = nftnl_expr_iter_create(r);
    for (nftnl_expr* e = nftnl_expr_iter_next(it); e != nullptr; e = nftnl_expr_iter_next(it)) {
      if (std::string(nftnl_expr_get_str(e, NFTNL_EXPR_NAME)) != "lookup") continue;
      EXPECT_STREQ(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET), set);
      const uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS)
                                 ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS)
                                 : 0;
      EXPECT_EQ(flags, inverted ? uint32_t{NFT_LOOKUP_F_INV} : 0u) << idx;
    }
    nftnl_expr_iter_destroy(it);
    nftnl_rule_free(r);
  }
}

TEST(AppendAdmitSingleUse, NatElementComesWithItsSingleUseMarkLast) {
  std::array<char, 4096> buf{};
  PinholeConfig cfg;
  NftBatch batch(buf, 1);
  core::Expectation x;
  x.src = ep("198.19.1.2", 0);
  x.dst = ep("198.19.1.1", 8080);  // the gateway's public address, as announced
  x.natTo = ep("198.18.1.2", 6000);
  x.hasSrcNat = true;
  x.srcNatTo = ip("198.19.1.9");
  ASSERT_TRUE(appendAdmit(batch, cfg, x).ok());
  ASSERT_TRUE(batch.finish());
  const auto msgs = messages(batch);
  ASSERT_EQ(msgs.size(), 6u);
  const ParsedElem use = parseElem(msgs[4]);
  EXPECT_EQ(use.set, "natuse4");
  EXPECT_EQ(use.key, parseElem(msgs[2]).key);  // the nat map's key
  EXPECT_TRUE(use.data.empty());
  EXPECT_EQ(use.timeoutMs, cfg.timeoutMs);
  // Without DNAT there is no nat element and no mark.
  std::array<char, 4096> buf2{};
  NftBatch plain(buf2, 1);
  x.natTo = x.dst;
  x.hasSrcNat = false;
  ASSERT_TRUE(appendAdmit(plain, cfg, x).ok());
  ASSERT_TRUE(plain.finish());
  EXPECT_EQ(messages(plain).size(), 3u);
}

// --- the source NAT map's key ---------------------------------------------------------------
// Keyed by the destination a data connection dialled (before DNAT), so that a routed connection
// to the same server port never matches a NATed session's element.

// One `ct` load of a rule: key, direction, destination register.
struct CtLoad {
  uint32_t key;
  uint8_t dir;
  uint32_t dreg;
  bool operator==(const CtLoad&) const = default;
};

// The ct loads of each rule in chain `post` of a fresh install, in order.
std::vector<std::vector<CtLoad>> postRuleCtLoads() {
  std::vector<char> buf(64 * 1024);
  NftBatch batch(buf, 1);
  EXPECT_TRUE(appendInstall(batch, PinholeConfig{}));
  EXPECT_TRUE(batch.finish());
  std::vector<std::vector<CtLoad>> out;
  for (const nlmsghdr* nlh : messages(batch)) {
    if (nlh->nlmsg_type != nftMsgType(NFT_MSG_NEWRULE)) continue;
    nftnl_rule* r = nftnl_rule_alloc();
    EXPECT_EQ(nftnl_rule_nlmsg_parse(nlh, r), 0);
    if (std::strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), kPostChain) == 0) {
      std::vector<CtLoad>& loads = out.emplace_back();
      nftnl_expr_iter* it = nftnl_expr_iter_create(r);
      for (nftnl_expr* e = nftnl_expr_iter_next(it); e != nullptr; e = nftnl_expr_iter_next(it)) {
        if (std::strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "ct") != 0) continue;
        loads.push_back({nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY),
                         nftnl_expr_get_u8(e, NFTNL_EXPR_CT_DIR),
                         nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG)});
      }
      nftnl_expr_iter_destroy(it);
    }
    nftnl_rule_free(r);
  }
  return out;
}

TEST(SnatKey, PostReadsTheDialledDestinationFromTheOriginalTuple) {
  // Into the registers the nat map's lookup reads: address after the source address, port after
  // that (IPv4: 4-byte registers; IPv6: 16-byte addresses); direction 0 = original.
  const std::vector<std::vector<CtLoad>> want = {
      {{NFT_CT_DST_IP, 0, NFT_REG32_01}, {NFT_CT_PROTO_DST, 0, NFT_REG32_02}},
      {{NFT_CT_DST_IP6, 0, NFT_REG32_04}, {NFT_CT_PROTO_DST, 0, NFT_REG32_08}}};
  EXPECT_EQ(postRuleCtLoads(), want);
}

// The key of the element one admit of `x` adds to `set`.
std::vector<uint8_t> elementKey(const core::Expectation& x, const char* set) {
  std::array<char, 4096> buf{};
  NftBatch batch(buf, 1);
  EXPECT_TRUE(appendAdmit(batch, PinholeConfig{}, x).ok());
  EXPECT_TRUE(batch.finish());
  const auto msgs = messages(batch);
  for (size_t i = 1; i + 1 < msgs.size(); ++i) {
    const ParsedElem e = parseElem(msgs[i]);
    if (e.set == set) return e.key;
  }
  ADD_FAILURE() << "no element in " << set;
  return {};
}

TEST(SnatKey, RoutedSessionOnTheSamePortMissesTheNatedSessionsElement) {
  // Client 198.18.1.2, server 198.19.1.2. Session N dials 198.18.100.100 (DNAT to the server)
  // and leaves SNATed as 198.19.100.100: its 227 announces port 40017. Session R reaches the
  // server routed, unrewritten; its server chose port 40017 too.
  const core::Expectation nated = withSourceNat(
      expectation(ep("198.18.1.2", 0), ep("198.18.100.100", 40017), ep("198.19.1.2", 40017)),
      "198.19.100.100");
  const core::Expectation routed = expectation(ep("198.18.1.2", 0), ep("198.19.1.2", 40017));
  const std::vector<uint8_t> snat = elementKey(nated, "snat4");
  // R's data connection has R's pin tuple both in postrouting's header and as its original one.
  EXPECT_NE(snat, elementKey(routed, "pin4"));
  EXPECT_EQ(snat, bytesOf(packAddrAddrPort(nated.src.addr, nated.dst.addr, 40017)));
}

}  // namespace
}  // namespace ftpalg::test
