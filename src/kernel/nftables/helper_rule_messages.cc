#include "kernel/nftables/helper_rule_messages.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include "kernel/nftables/nftnl_ptr.h"
#include "kernel/nftables/rule_parts.h"

namespace ftpalg::kernel::nft {
namespace {

constexpr BaseChain kChain{kHelperTable, "pre", NF_INET_PRE_ROUTING, kHelperChainPriority,
                           NF_ACCEPT};

// No l3proto in an inet table: the kernel looks the helper up for IPv4 and IPv6.
bool appendHelperObject(NftBatch& b, const HelperRuleSpec& spec, std::string_view label) {
  ObjPtr o(nftnl_obj_alloc());
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_TABLE, kHelperTable);
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_NAME, kHelperObject);
  nftnl_obj_set_u32(o.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_CT_HELPER);
  nftnl_obj_set_u32(o.get(), NFTNL_OBJ_FAMILY, NFPROTO_INET);
  nftnl_obj_set_str(o.get(), NFTNL_OBJ_CT_HELPER_NAME, spec.helper.c_str());
  nftnl_obj_set_u8(o.get(), NFTNL_OBJ_CT_HELPER_L4PROTO, IPPROTO_TCP);
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWOBJ, NFPROTO_INET, NLM_F_CREATE, label);
  if (nlh == nullptr) return false;
  nftnl_obj_nlmsg_build_payload(nlh, o.get());
  return b.end();
}

// tcp dport PORT ct state new ct helper set "ftpalg-ftp"
bool appendRule(NftBatch& b, uint16_t port, std::string_view label) {
  RulePtr r = newRule(kHelperTable, kChain.name);
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  addTcpPortMatch(r.get(), 2, port);

  nftnl_expr* ct = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
  nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r.get(), ct);
  const uint32_t newBit = NF_CT_STATE_BIT(IP_CT_NEW);
  const uint32_t zero = 0;
  nftnl_rule_add_expr(r.get(), maskExpr(&newBit, sizeof newBit));
  nftnl_rule_add_expr(r.get(), cmpExpr(NFT_CMP_NEQ, &zero, sizeof zero));

  nftnl_expr* ref = nftnl_expr_alloc("objref");
  nftnl_expr_set_u32(ref, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_CT_HELPER);
  nftnl_expr_set_str(ref, NFTNL_EXPR_OBJREF_IMM_NAME, kHelperObject);
  nftnl_rule_add_expr(r.get(), ref);
  return appendNewRule(b, r.get(), NFPROTO_INET, label);
}

}  // namespace

bool appendReplaceHelperRules(NftBatch& batch, const HelperRuleSpec& spec, std::string_view label) {
  // add (a no-op when it exists), delete, add with contents: a stale table of any contents
  // goes without an error that would abort the transaction, and no packet ever sees the
  // hook without the rules.
  return appendNewTable(batch, kHelperTable, NFPROTO_INET, label) &&
         appendDeleteTable(batch, kHelperTable, NFPROTO_INET, label) &&
         appendHelperRules(batch, spec, label);
}

bool appendHelperRules(NftBatch& batch, const HelperRuleSpec& spec, std::string_view label) {
  if (!appendNewTable(batch, kHelperTable, NFPROTO_INET, label) ||
      !appendHelperObject(batch, spec, label) ||
      !appendBaseChain(batch, kChain, NFPROTO_INET, label)) {
    return false;
  }
  for (uint16_t port : spec.ports) {
    if (!appendRule(batch, port, label)) return false;
  }
  return true;
}

}  // namespace ftpalg::kernel::nft
