#include "kernel/nftables/queue_rule_messages.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdlib>

#include "kernel/nftables/nftnl_ptr.h"
#include "kernel/nftables/rule_parts.h"

namespace ftpalg::kernel::nft {
namespace {

constexpr BaseChain kChain{kQueueTable, "forward", NF_INET_FORWARD, kQueuePriority, std::nullopt};

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

// ct mark == `mark` (host byte order, as the ct expression loads it).
void addCtMarkMatch(nftnl_rule* r, uint32_t mark) {
  nftnl_expr* e = nftnl_expr_alloc("ct");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r, e);
  nftnl_rule_add_expr(r, cmpExpr(NFT_CMP_EQ, &mark, sizeof mark));
}

// symhash mod `modulus` offset `base` into register 1: the same value for both directions of a
// connection (addresses and ports, ordered), so both reach one queue.
nftnl_expr* symhashExpr(uint32_t modulus, uint32_t base) {
  nftnl_expr* e = nftnl_expr_alloc("hash");
  nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_SYM);
  nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, modulus);
  nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_OFFSET, base);
  return e;
}

// Spread (queue_rules_text.h, "Spreading connections"): nft `queue to symhash mod N offset
// FIRST`, or for the xtables form rule `slot` of N: symhash mod N == slot, then NFQUEUE to queue
// FIRST + slot alone.
void addSpreadVerdict(nftnl_rule* r, const QueueRuleSpec& q, QueueForm form, uint32_t slot) {
  if (form == QueueForm::Nft) {
    nftnl_rule_add_expr(r, symhashExpr(q.queueCount, q.firstQueue));
    nftnl_expr* e = nftnl_expr_alloc("queue");
    nftnl_expr_set_u32(e, NFTNL_EXPR_QUEUE_SREG_QNUM, NFT_REG_1);
    nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, q.bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
    nftnl_rule_add_expr(r, e);
    return;
  }
  nftnl_rule_add_expr(r, symhashExpr(q.queueCount, 0));
  nftnl_rule_add_expr(r, cmpExpr(NFT_CMP_EQ, &slot, sizeof slot));
  QueueRuleSpec one = q;
  one.firstQueue = static_cast<uint16_t>(q.firstQueue + slot);
  one.queueCount = 1;
  nftnl_rule_add_expr(r, nfqueueTarget(one));
}

// tcp dport|sport PORT [ct mark MARK], then the queueing verdict of `form`. `mark` nonzero: the
// rule of rewritten sessions, queued without bypass. Spread xtables form: rule `slot` of the
// queue count (see addSpreadVerdict).
bool appendRule(NftBatch& b, const QueueRuleSpec& spec, QueueForm form, uint16_t family,
                uint16_t port, uint32_t offset, uint32_t mark, std::string_view label,
                uint32_t slot = 0) {
  RulePtr r = newRule(kQueueTable, kChain.name);
  addTcpPortMatch(r.get(), offset, port);
  QueueRuleSpec q = spec;
  if (mark != 0) {
    addCtMarkMatch(r.get(), mark);
    q.bypass = false;
  }
  if (q.spreadConnections && q.queueCount > 1) {
    addSpreadVerdict(r.get(), q, form, slot);
  } else {
    nftnl_rule_add_expr(r.get(), form == QueueForm::Nft ? nftQueue(q) : nfqueueTarget(q));
  }
  return appendNewRule(b, r.get(), family, label);
}

// Register 1 = 1 byte at transport offset `offset`, masked with `mask`, must equal `value`.
void addTcpByteMatch(nftnl_rule* r, uint32_t offset, uint8_t mask, uint8_t value) {
  nftnl_expr* p = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, 1);
  nftnl_rule_add_expr(r, p);
  nftnl_rule_add_expr(r, maskExpr(&mask, 1));
  nftnl_rule_add_expr(r, cmpExpr(NFT_CMP_EQ, &value, 1));
}

// tcp dport|sport PORT tcp flags & (fin|syn|rst) == 0 tcp doff D [meta nfproto F] ip length L
// (ip6: payload length) accept: a pure ACK of form `f` (queue_rules_text.h), for IP family
// `ipFamily` (NFPROTO_IPV4/IPV6) in a table of `family`.
bool appendAckRule(NftBatch& b, uint16_t family, uint16_t ipFamily, uint16_t port, uint32_t offset,
                   const PureAckForm& f, std::string_view label) {
  RulePtr r = newRule(kQueueTable, kChain.name);
  addTcpPortMatch(r.get(), offset, port);
  addTcpByteMatch(r.get(), 13, 0x07, 0);  // FIN 0x01, SYN 0x02, RST 0x04: none
  addTcpByteMatch(r.get(), 12, 0xf0, static_cast<uint8_t>(f.doff << 4));
  if (family == NFPROTO_INET) {
    nftnl_expr* m = nftnl_expr_alloc("meta");
    nftnl_expr_set_u32(m, NFTNL_EXPR_META_KEY, NFT_META_NFPROTO);
    nftnl_expr_set_u32(m, NFTNL_EXPR_META_DREG, NFT_REG_1);
    nftnl_rule_add_expr(r.get(), m);
    const auto fam = static_cast<uint8_t>(ipFamily);
    nftnl_rule_add_expr(r.get(), cmpExpr(NFT_CMP_EQ, &fam, sizeof fam));
  }
  const bool v4 = ipFamily == NFPROTO_IPV4;
  nftnl_expr* p = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, v4 ? 2 : 4);
  nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, 2);
  nftnl_rule_add_expr(r.get(), p);
  const uint16_t lenBe = htons(v4 ? f.ip4Length : f.ip6Length);
  nftnl_rule_add_expr(r.get(), cmpExpr(NFT_CMP_EQ, &lenBe, sizeof lenBe));
  nftnl_expr* v = nftnl_expr_alloc("immediate");
  nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(v, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
  nftnl_rule_add_expr(r.get(), v);
  return appendNewRule(b, r.get(), family, label);
}

// The pure-ACK rules of every control port, both directions, for table family `family`.
bool appendAckRules(NftBatch& b, const QueueRuleSpec& spec, uint16_t family,
                    std::string_view label) {
  for (uint16_t port : spec.ports) {
    for (uint32_t offset : {2u, 0u}) {
      for (const PureAckForm& f : kPureAckForms) {
        for (uint16_t ip : {uint16_t{NFPROTO_IPV4}, uint16_t{NFPROTO_IPV6}}) {
          if (family != NFPROTO_INET && family != ip) continue;
          if (!appendAckRule(b, family, ip, port, offset, f, label)) return false;
        }
      }
    }
  }
  return true;
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
    if (!appendNewTable(batch, kQueueTable, family, label) ||
        !appendBaseChain(batch, kChain, family, label)) {
      return false;
    }
    // Marked (rewritten, shifted) sessions first, without bypass; then the pure ACKs of the
    // others; then everything else (queue_rules_text.h).
    const uint32_t sessionMark = spec.bypass || bypassesAcks(spec) ? spec.sessionMark : 0;
    for (int pass = sessionMark != 0 ? 0 : 1; pass < 2; ++pass) {
      const uint32_t mark = pass == 0 ? sessionMark : 0;
      if (pass == 1 && bypassesAcks(spec) && !appendAckRules(batch, spec, family, label)) {
        return false;
      }
      for (uint16_t port : spec.ports) {
        for (uint32_t offset : {2u, 0u}) {  // tcp dport, tcp sport
          // Spread in the xtables form: one rule per queue (see addSpreadVerdict).
          const uint32_t slots = spec.spreadConnections && form == QueueForm::Iptables
                                     ? std::max<uint32_t>(spec.queueCount, 1)
                                     : 1;
          for (uint32_t slot = 0; slot < slots; ++slot) {
            if (!appendRule(batch, spec, form, family, port, offset, mark, label, slot)) {
              return false;
            }
          }
        }
      }
    }
  }
  return true;
}

}  // namespace ftpalg::kernel::nft
