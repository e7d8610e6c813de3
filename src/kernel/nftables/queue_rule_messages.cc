#include "kernel/nftables/queue_rule_messages.h"

#include <arpa/inet.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cstdlib>
#include <memory>

#include "kernel/nftables/nftnl_ptr.h"
#include "kernel/nftables/rule_parts.h"

namespace ftpalg::kernel::nft {
namespace {

constexpr const char* kChain = "forward";

constexpr uint16_t kNftFamilies[] = {NFPROTO_INET};
constexpr uint16_t kCompatFamilies[] = {NFPROTO_IPV4, NFPROTO_IPV6};
constexpr uint16_t kAllFamilies[] = {NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6};

// xt NFQUEUE revision 3 through nft_compat. libnftnl takes ownership of the info buffer.
nftnl_expr* nfqueueTarget(const QueueRuleSpec& spec) {
  constexpr size_t kInfoBytes = 8;  // XT_ALIGN(sizeof(xt_NFQ_info_v3))
  auto* info = static_cast<xt_NFQ_info_v3*>(std::calloc(1, kInfoBytes));
  if (info == nullptr) std::abort();
  info->queuenum = spec.firstQueue;
  info->queues_total = spec.queueCount;
  info->flags = spec.bypass ? NFQ_FLAG_BYPASS : 0;
  nftnl_expr* e = nftnl_expr_alloc("target");
  nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
  nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
  nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, kInfoBytes);
  return e;
}

// nft `queue` over the queue range (hashed, not CPU fanout), bypass in fail-open mode.
nftnl_expr* nftQueue(const QueueRuleSpec& spec) {
  nftnl_expr* e = nftnl_expr_alloc("queue");
  nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, spec.firstQueue);
  nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, spec.queueCount);
  nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, spec.bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
  return e;
}

bool appendTable(NftBatch& b, uint16_t family, std::string_view label) {
  TablePtr t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, kQueueTable);
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWTABLE, family, NLM_F_CREATE, label);
  if (nlh == nullptr) return false;
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  return b.end();
}

bool appendChain(NftBatch& b, uint16_t family, std::string_view label) {
  ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, kQueueTable);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, kChain);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, "filter");
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, kQueuePriority);
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWCHAIN, family, NLM_F_CREATE, label);
  if (nlh == nullptr) return false;
  nftnl_chain_nlmsg_build_payload(nlh, c.get());
  return b.end();
}

// ct mark == `mark` (host byte order, as the ct expression loads it).
void addCtMarkMatch(nftnl_rule* r, uint32_t mark) {
  nftnl_expr* e = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r, e);
  nftnl_rule_add_expr(r, cmpExpr(NFT_CMP_EQ, &mark, sizeof mark));
}

// tcp dport|sport PORT [ct mark MARK], then the queueing verdict of `form`. `mark` nonzero: the
// rule of rewritten sessions, queued without bypass.
bool appendRule(NftBatch& b, const QueueRuleSpec& spec, QueueForm form, uint16_t family,
                uint16_t port, uint32_t offset, uint32_t mark, std::string_view label) {
  RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kQueueTable);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, kChain);
  const uint8_t tcp = IPPROTO_TCP;
  const uint16_t portBe = htons(port);
  nftnl_rule_add_expr(r.get(), metaL4protoExpr());
  nftnl_rule_add_expr(r.get(), cmpExpr(NFT_CMP_EQ, &tcp, sizeof tcp));
  nftnl_rule_add_expr(r.get(), tcpPortExpr(offset));
  nftnl_rule_add_expr(r.get(), cmpExpr(NFT_CMP_EQ, &portBe, sizeof portBe));
  QueueRuleSpec q = spec;
  if (mark != 0) {
    addCtMarkMatch(r.get(), mark);
    q.bypass = false;
  }
  nftnl_rule_add_expr(r.get(), form == QueueForm::Nft ? nftQueue(q) : nfqueueTarget(q));
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWRULE, family, NLM_F_APPEND | NLM_F_CREATE, label);
  if (nlh == nullptr) return false;
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  return b.end();
}

}  // namespace

std::span<const uint16_t> queueFamilies(QueueForm form) {
  return form == QueueForm::Nft ? std::span<const uint16_t>(kNftFamilies)
                                : std::span<const uint16_t>(kCompatFamilies);
}

std::span<const uint16_t> allQueueFamilies() { return kAllFamilies; }

const char* familyName(uint16_t family) {
  switch (family) {
    case NFPROTO_INET:
      return "inet";
    case NFPROTO_IPV4:
      return "ip";
    default:
      return "ip6";
  }
}

bool appendQueueRules(NftBatch& batch, const QueueRuleSpec& spec, QueueForm form,
                      std::string_view label) {
  for (uint16_t family : queueFamilies(form)) {
    if (!appendTable(batch, family, label) || !appendChain(batch, family, label)) return false;
    // Fail-open: rewritten sessions first, without bypass (queue_rules_text.h).
    const uint32_t sessionMark = spec.bypass ? spec.sessionMark : 0;
    for (int pass = sessionMark != 0 ? 0 : 1; pass < 2; ++pass) {
      const uint32_t mark = pass == 0 ? sessionMark : 0;
      for (uint16_t port : spec.ports) {
        for (uint32_t offset : {2u, 0u}) {  // tcp dport, tcp sport
          if (!appendRule(batch, spec, form, family, port, offset, mark, label)) return false;
        }
      }
    }
  }
  return true;
}

}  // namespace ftpalg::kernel::nft
