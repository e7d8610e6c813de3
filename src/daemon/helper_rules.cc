#include "daemon/helper_rules.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>

#include "daemon/nft_transaction.h"

namespace ftpalg::daemon {
namespace {

constexpr size_t kBatchBytes = 32 * 1024;
constexpr const char* kChain = "pre";

// tcp dport PORT ct state new ct helper set "ftpalg-ftp"
void addRule(NftTransaction& b, uint16_t port) {
  nftnl_rule* r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, kHelperTable);
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, kChain);
  nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);

  nftnl_rule_add_expr(r, metaL4protoExpr());
  const uint8_t tcp = IPPROTO_TCP;
  nftnl_rule_add_expr(r, cmpExpr(NFT_CMP_EQ, &tcp, sizeof tcp));

  nftnl_rule_add_expr(r, tcpPortExpr(2));
  const uint16_t dport = htons(port);
  nftnl_rule_add_expr(r, cmpExpr(NFT_CMP_EQ, &dport, sizeof dport));

  nftnl_expr* ct = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r, ct);
  const uint32_t newBit = NF_CT_STATE_BIT(IP_CT_NEW);
  const uint32_t zero = 0;
  nftnl_expr* bw = nftnl_expr_alloc("bitwise");
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, sizeof newBit);
  nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &newBit, sizeof newBit);
  nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof zero);
  nftnl_rule_add_expr(r, bw);
  nftnl_rule_add_expr(r, cmpExpr(NFT_CMP_NEQ, &zero, sizeof zero));

  nftnl_expr* ref = nftnl_expr_alloc("objref");
  nftnl_expr_set_u32(ref, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_CT_HELPER);
  nftnl_expr_set_str(ref, NFTNL_EXPR_OBJREF_IMM_NAME, kHelperObject);
  nftnl_rule_add_expr(r, ref);

  nlmsghdr* nlh = nftnl_rule_nlmsg_build_hdr(b.current(), NFT_MSG_NEWRULE, NFPROTO_INET,
                                             NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, b.nextSeq());
  nftnl_rule_nlmsg_build_payload(nlh, r);
  nftnl_rule_free(r);
  b.commit();
}

uint32_t batchSeq() { return static_cast<uint32_t>(time(nullptr)); }

}  // namespace

std::string helperRulesText(const HelperRuleSpec& spec) {
  std::string ports = fmt::format("{}", spec.ports.front());
  if (spec.ports.size() > 1) ports = fmt::format("{{ {} }}", fmt::join(spec.ports, ", "));
  return fmt::format(
      "# expectation mode: ftpalgd is the userspace conntrack helper \"{0}\" (nfnetlink_cthelper)\n"
      "table inet {1} {{\n"
      "\tct helper {2} {{\n"
      "\t\ttype \"{0}\" protocol tcp;\n"
      "\t}}\n"
      "\tchain pre {{\n"
      "\t\ttype filter hook prerouting priority 0; policy accept;\n"
      "\t\ttcp dport {3} ct state new ct helper set \"{2}\"\n"
      "\t}}\n"
      "}}\n"
      "# your forward chain (policy drop) needs, before its drop rules:\n"
      "#\tct state established accept\n"
      "#\tct state related accept          # data connections ftpalgd expected\n"
      "#\ttcp dport {3} ct state new accept\n",
      spec.helper, kHelperTable, kHelperObject, ports);
}

kernel::Status installHelperRules(const HelperRuleSpec& spec) {
  // A stale table goes in a transaction of its own: an error (ENOENT when there is none)
  // aborts the whole transaction it is part of.
  if (kernel::Status s = removeHelperRules(); !s.ok()) return s;
  NftTransaction b(kBatchBytes, batchSeq() + 16);

  nftnl_table* t = nftnl_table_alloc();
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, kHelperTable);
  nlmsghdr* nlh = nftnl_table_nlmsg_build_hdr(b.current(), NFT_MSG_NEWTABLE, NFPROTO_INET,
                                              NLM_F_CREATE | NLM_F_ACK, b.nextSeq());
  nftnl_table_nlmsg_build_payload(nlh, t);
  nftnl_table_free(t);
  b.commit();

  // No l3proto in an inet table: the kernel looks the helper up for IPv4 and IPv6.
  nftnl_obj* o = nftnl_obj_alloc();
  nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, kHelperTable);
  nftnl_obj_set_str(o, NFTNL_OBJ_NAME, kHelperObject);
  nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_CT_HELPER);
  nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
  nftnl_obj_set_str(o, NFTNL_OBJ_CT_HELPER_NAME, spec.helper.c_str());
  nftnl_obj_set_u8(o, NFTNL_OBJ_CT_HELPER_L4PROTO, IPPROTO_TCP);
  nlh = nftnl_nlmsg_build_hdr(b.current(), NFT_MSG_NEWOBJ, NFPROTO_INET,
                                  NLM_F_CREATE | NLM_F_ACK, b.nextSeq());
  nftnl_obj_nlmsg_build_payload(nlh, o);
  nftnl_obj_free(o);
  b.commit();

  nftnl_chain* c = nftnl_chain_alloc();
  nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, kHelperTable);
  nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, kChain);
  nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
  nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_PRE_ROUTING);
  nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
  nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
  nlh = nftnl_chain_nlmsg_build_hdr(b.current(), NFT_MSG_NEWCHAIN, NFPROTO_INET,
                                    NLM_F_CREATE | NLM_F_ACK, b.nextSeq());
  nftnl_chain_nlmsg_build_payload(nlh, c);
  nftnl_chain_free(c);
  b.commit();

  for (uint16_t p : spec.ports) addRule(b, p);
  return b.run("nft: add table inet ftpalg_helper");
}

kernel::Status removeHelperRules() {
  NftTransaction b(kBatchBytes, batchSeq());
  addDeleteTable(b, kHelperTable, NFPROTO_INET);
  return b.run("nft: delete table inet ftpalg_helper");
}

}  // namespace ftpalg::daemon
