#include "kernel/nftables/rule_parts.h"

#include <arpa/inet.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cstdlib>

namespace ftpalg::kernel::nft {

nftnl_expr* cmpExpr(uint32_t op, const void* data, uint32_t len) {
  nftnl_expr* e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  return e;
}

nftnl_expr* metaL4protoExpr() {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
  return e;
}

nftnl_expr* tcpPortExpr(uint32_t offset) {
  nftnl_expr* e = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
  return e;
}

nftnl_expr* maskExpr(const void* mask, uint32_t len) {
  constexpr uint32_t kZero = 0;
  if (len > sizeof kZero) std::abort();  // a programming error: the callers pass constants
  nftnl_expr* e = nftnl_expr_alloc("bitwise");
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &kZero, len);
  return e;
}

void addTcpPortMatch(nftnl_rule* rule, uint32_t offset, uint16_t port) {
  const uint8_t tcp = IPPROTO_TCP;
  const uint16_t portBe = htons(port);
  nftnl_rule_add_expr(rule, metaL4protoExpr());
  nftnl_rule_add_expr(rule, cmpExpr(NFT_CMP_EQ, &tcp, sizeof tcp));
  nftnl_rule_add_expr(rule, tcpPortExpr(offset));
  nftnl_rule_add_expr(rule, cmpExpr(NFT_CMP_EQ, &portBe, sizeof portBe));
}

RulePtr newRule(const char* table, const char* chain) {
  RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain);
  return r;
}

bool appendNewTable(NftBatch& batch, const char* table, uint16_t family, std::string_view label) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table);
  nlmsghdr* nlh = batch.begin(NFT_MSG_NEWTABLE, family, NLM_F_CREATE, label);
  if (nlh == nullptr) return false;
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  return batch.end();
}

bool appendBaseChain(NftBatch& batch, const BaseChain& chain, uint16_t family,
                     std::string_view label) {
  ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, chain.table);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.name);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, "filter");
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, chain.hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, chain.priority);
  if (chain.policy) nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, *chain.policy);
  nlmsghdr* nlh = batch.begin(NFT_MSG_NEWCHAIN, family, NLM_F_CREATE, label);
  if (nlh == nullptr) return false;
  nftnl_chain_nlmsg_build_payload(nlh, c.get());
  return batch.end();
}

bool appendNewRule(NftBatch& batch, nftnl_rule* rule, uint16_t family, std::string_view label) {
  nlmsghdr* nlh = batch.begin(NFT_MSG_NEWRULE, family, NLM_F_APPEND | NLM_F_CREATE, label);
  if (nlh == nullptr) return false;
  nftnl_rule_nlmsg_build_payload(nlh, rule);
  return batch.end();
}

bool appendDeleteTable(NftBatch& batch, const char* table, uint16_t family,
                       std::string_view label) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table);
  nlmsghdr* nlh = batch.begin(NFT_MSG_DELTABLE, family, 0, label);
  if (nlh == nullptr) return false;
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  return batch.end();
}

}  // namespace ftpalg::kernel::nft
