#include "kernel/nftables/rule_decoder.h"

#include <arpa/inet.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_HMARK.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <linux/netfilter/xt_connmark.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <string_view>

namespace ftpalg::kernel::nft {
namespace {

// What a register holds, as far as the conditions we read are concerned.
enum class RegKind : uint8_t {
  Empty,
  L4proto,
  Nfproto,
  Dport,
  Sport,
  CtState,
  CtMark,
  Imm,
  Other,
  Hash,  // a `hash` expression's result (symhash, jhash)
  Mark,  // meta mark (the packet mark)
};

struct Reg {
  RegKind kind = RegKind::Empty;
  uint32_t mask = UINT32_MAX;  // bitwise mask applied after the load
  uint32_t value = 0;          // Imm: the immediate data (host order, first 4 bytes)
  ConnHash hash{};             // Hash: what was hashed into the register
};

struct Decoder {
  RuleFacts facts;
  std::array<Reg, 32> regs{};
  const PortSets* sets = nullptr;
  std::string setPrefix;  // "family/table/"
};

Reg& reg(Decoder& d, uint32_t r) { return d.regs[r < d.regs.size() ? r : 0]; }

uint32_t dataU32(const nftnl_expr* e, uint16_t attr, uint32_t& len) {
  const void* p = nftnl_expr_get(e, attr, &len);
  uint32_t v = 0;
  if (p != nullptr) std::memcpy(&v, p, len < sizeof v ? len : sizeof v);
  return v;
}

uint16_t portOf(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const void* p = nftnl_expr_get(e, attr, &len);
  uint16_t be = 0;
  if (p != nullptr && len >= 2) std::memcpy(&be, p, 2);
  return ntohs(be);
}

void addPorts(Decoder& d, RegKind kind, std::vector<PortRange> ranges) {
  auto& slot = kind == RegKind::Dport ? d.facts.dports : d.facts.sports;
  slot = std::move(ranges);
}

void onCmp(Decoder& d, const nftnl_expr* e) {
  const Reg& r = reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
  const uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP);
  uint32_t len = 0;
  const uint32_t v = dataU32(e, NFTNL_EXPR_CMP_DATA, len);
  switch (r.kind) {
    case RegKind::L4proto:
      if (op == NFT_CMP_EQ) {
        d.facts.tcp = (v & 0xff) == IPPROTO_TCP;
      } else {
        d.facts.otherCondition = true;
      }
      return;
    case RegKind::Nfproto:
      return;  // a family condition: both families carry FTP alike
    case RegKind::Dport:
    case RegKind::Sport:
      if (op == NFT_CMP_EQ) {
        const uint16_t p = portOf(e, NFTNL_EXPR_CMP_DATA);
        addPorts(d, r.kind, {{p, p}});
      } else {
        d.facts.otherCondition = true;
      }
      return;
    case RegKind::CtState:
      if (op == NFT_CMP_NEQ && v == 0) {
        d.facts.ctStates |= r.mask;
      } else if (op == NFT_CMP_EQ) {
        d.facts.ctStates |= v & r.mask;
      } else {
        d.facts.otherCondition = true;
      }
      return;
    case RegKind::CtMark:
      if (op == NFT_CMP_EQ && r.mask == UINT32_MAX) {
        d.facts.ctMark = v;
      } else {
        d.facts.otherCondition = true;
      }
      return;
    case RegKind::Hash:  // one queue's share of a spread (still a condition)
      if (op == NFT_CMP_EQ && r.mask == UINT32_MAX) {
        d.facts.hashCondition = r.hash;
        d.facts.hashSlot = v;
      }
      d.facts.otherCondition = true;
      return;
    case RegKind::Mark:  // -m mark: with HMARK before it, one queue's share (still a condition)
      if (op == NFT_CMP_EQ && r.mask == UINT32_MAX) d.facts.packetMark = v;
      d.facts.otherCondition = true;
      return;
    default:
      d.facts.otherCondition = true;
  }
}

RegKind metaKind(uint32_t key) {
  switch (key) {
    case NFT_META_L4PROTO:
      return RegKind::L4proto;
    case NFT_META_NFPROTO:
      return RegKind::Nfproto;
    case NFT_META_MARK:
      return RegKind::Mark;
    default:
      return RegKind::Other;
  }
}

void onLoad(Decoder& d, const nftnl_expr* e, std::string_view name) {
  if (name == "meta") {
    if (!nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) return;  // meta ... set
    const uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
    reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG)) = {metaKind(key)};
  } else if (name == "payload") {
    if (!nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) return;  // a payload write
    const bool th = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) == NFT_PAYLOAD_TRANSPORT_HEADER;
    const uint32_t off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
    const uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
    RegKind k = RegKind::Other;
    if (th && len == 2 && off == 2) k = RegKind::Dport;
    if (th && len == 2 && off == 0) k = RegKind::Sport;
    reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG)) = {k};
  } else if (name == "ct") {
    const uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);
    if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG)) {  // ct ... set
      const Reg& src = reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_CT_SREG));
      if (key == NFT_CT_MARK && src.kind == RegKind::Imm) d.facts.ctMarkSet = src.value;
      return;
    }
    reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG)) = {key == NFT_CT_STATE  ? RegKind::CtState
                                                         : key == NFT_CT_MARK ? RegKind::CtMark
                                                                              : RegKind::Other};
  } else if (name == "bitwise") {
    Reg r = reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
    uint32_t len = 0;
    if (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_MASK)) {
      r.mask &= dataU32(e, NFTNL_EXPR_BITWISE_MASK, len);
    }
    reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG)) = r;
  }
}

// symhash / jhash ... mod N offset A into a register (nft `queue to symhash mod 2 offset 160`,
// ftpalgd's `symhash mod 2 == slot`).
void onHash(Decoder& d, const nftnl_expr* e) {
  Reg r{RegKind::Hash};
  r.hash.symmetric = nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_TYPE) == NFT_HASH_SYM;
  r.hash.modulus = nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_MODULUS);
  r.hash.offset = nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_OFFSET);
  reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_HASH_DREG)) = r;
}

// nft `queue`: a fixed range (num A-B), or `queue to <register>`: a hash's range, else a queue
// this decoder cannot name (total 0: no queue is known to be used).
void onQueue(Decoder& d, const nftnl_expr* e) {
  d.facts.verdict = RuleVerdict::Queue;
  d.facts.queueBypass =
      (nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS) & NFT_QUEUE_FLAG_BYPASS) != 0;
  if (nftnl_expr_is_set(e, NFTNL_EXPR_QUEUE_SREG_QNUM)) {
    const Reg& r = reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_QUEUE_SREG_QNUM));
    const bool hashed = r.kind == RegKind::Hash && r.hash.modulus > 0 &&
                        uint64_t{r.hash.offset} + r.hash.modulus <= uint64_t{UINT16_MAX} + 1;
    d.facts.queueNum = hashed ? static_cast<uint16_t>(r.hash.offset) : 0;
    d.facts.queueTotal = hashed ? static_cast<uint16_t>(r.hash.modulus) : 0;
    if (hashed) d.facts.queueHash = r.hash;
    return;
  }
  d.facts.queueNum = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM);
  d.facts.queueTotal = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL);
  if (d.facts.queueTotal == 0) d.facts.queueTotal = 1;
}

void onLookup(Decoder& d, const nftnl_expr* e) {
  if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG)) return;  // a map: not a condition
  const Reg& r = reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
  const uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS)
                             ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS)
                             : 0;
  const char* set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
  if ((r.kind == RegKind::Dport || r.kind == RegKind::Sport) && flags == 0 && set != nullptr) {
    if (auto it = d.sets->find(d.setPrefix + set); it != d.sets->end()) {
      addPorts(d, r.kind, it->second);
      return;
    }
  }
  d.facts.otherCondition = true;
}

void onRange(Decoder& d, const nftnl_expr* e) {
  const Reg& r = reg(d, nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG));
  if ((r.kind == RegKind::Dport || r.kind == RegKind::Sport) &&
      nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) == NFT_RANGE_EQ) {
    addPorts(d, r.kind,
             {{portOf(e, NFTNL_EXPR_RANGE_FROM_DATA), portOf(e, NFTNL_EXPR_RANGE_TO_DATA)}});
    return;
  }
  d.facts.otherCondition = true;
}

void onImmediate(Decoder& d, const nftnl_expr* e) {
  const uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);
  if (dreg != NFT_REG_VERDICT) {
    uint32_t len = 0;
    reg(d, dreg) = {RegKind::Imm, UINT32_MAX, dataU32(e, NFTNL_EXPR_IMM_DATA, len)};
    return;
  }
  const auto v = static_cast<int32_t>(nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
  switch (v) {
    case NF_ACCEPT:
      d.facts.verdict = RuleVerdict::Accept;
      break;
    case NF_DROP:
      d.facts.verdict = RuleVerdict::Drop;
      break;
    case NFT_JUMP:
    case NFT_GOTO:
      d.facts.verdict = v == NFT_JUMP ? RuleVerdict::Jump : RuleVerdict::Goto;
      if (const char* c = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN); c != nullptr) {
        d.facts.jumpTarget = c;
      }
      break;
    case NFT_RETURN:
      d.facts.verdict = RuleVerdict::Return;
      break;
    default:
      break;
  }
}

// The xtables info blob of a compat match or target, when at least `size` bytes long.
template <typename T>
const T* info(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const void* p = nftnl_expr_get(e, attr, &len);
  return p != nullptr && len >= sizeof(T) ? static_cast<const T*>(p) : nullptr;
}

void onCompatMatch(Decoder& d, const nftnl_expr* e) {
  const std::string_view name = nftnl_expr_get_str(e, NFTNL_EXPR_MT_NAME);
  const uint32_t rev = nftnl_expr_get_u32(e, NFTNL_EXPR_MT_REV);
  if (name == "conntrack" && rev == 3) {
    if (const auto* m = info<xt_conntrack_mtinfo3>(e, NFTNL_EXPR_MT_INFO);
        m != nullptr && m->match_flags == XT_CONNTRACK_STATE && m->invert_flags == 0) {
      d.facts.ctStates |= m->state_mask;
      return;
    }
  } else if (name == "state") {
    if (const auto* m = info<xt_state_info>(e, NFTNL_EXPR_MT_INFO); m != nullptr) {
      d.facts.ctStates |= m->statemask;
      return;
    }
  } else if (name == "connmark" && rev == 1) {
    if (const auto* m = info<xt_connmark_mtinfo1>(e, NFTNL_EXPR_MT_INFO);
        m != nullptr && m->invert == 0 && m->mask == UINT32_MAX) {
      d.facts.ctMark = m->mark;
      return;
    }
  } else if (name == "multiport" && rev == 1) {
    if (const auto* m = info<xt_multiport_v1>(e, NFTNL_EXPR_MT_INFO);
        m != nullptr && m->invert == 0 && m->count <= XT_MULTI_PORTS) {
      std::vector<PortRange> ranges;
      for (uint8_t i = 0; i < m->count; ++i) {
        const bool range = m->pflags[i] != 0 && i + 1 < m->count;
        ranges.emplace_back(m->ports[i], range ? m->ports[i + 1] : m->ports[i]);
        if (range) ++i;
      }
      auto& slot = m->flags == XT_MULTIPORT_DESTINATION ? d.facts.dports
                   : m->flags == XT_MULTIPORT_SOURCE    ? d.facts.sports
                                                        : d.facts.eitherPorts;
      slot = std::move(ranges);
      return;
    }
  } else if (name == "mark" && rev == 1) {  // a condition all the same (falls through)
    if (const auto* m = info<xt_mark_mtinfo1>(e, NFTNL_EXPR_MT_INFO);
        m != nullptr && m->invert == 0 && m->mask == UINT32_MAX) {
      d.facts.packetMark = m->mark;
    }
  } else if (name == "tcp") {
    if (const auto* m = info<xt_tcp>(e, NFTNL_EXPR_MT_INFO);
        m != nullptr && m->invflags == 0 && m->flg_mask == 0 && m->option == 0) {
      d.facts.tcp = true;
      if (m->spts[0] != 0 || m->spts[1] != 0xffff) d.facts.sports = {{m->spts[0], m->spts[1]}};
      if (m->dpts[0] != 0 || m->dpts[1] != 0xffff) d.facts.dports = {{m->dpts[0], m->dpts[1]}};
      return;
    }
  }
  d.facts.otherCondition = true;
}

void onCompatTarget(Decoder& d, const nftnl_expr* e) {
  const std::string_view name = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);
  const uint32_t rev = nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV);
  if (name == "NFQUEUE") {
    d.facts.verdict = RuleVerdict::Queue;
    d.facts.compatQueue = true;
    if (const auto* t = info<xt_NFQ_info>(e, NFTNL_EXPR_TG_INFO); t != nullptr) {
      d.facts.queueNum = t->queuenum;
    }
    if (const auto* t = info<xt_NFQ_info_v1>(e, NFTNL_EXPR_TG_INFO); t != nullptr && rev >= 1) {
      d.facts.queueTotal = t->queues_total == 0 ? 1 : t->queues_total;
    }
    if (const auto* t = info<xt_NFQ_info_v3>(e, NFTNL_EXPR_TG_INFO); t != nullptr && rev >= 2) {
      d.facts.queueBypass = (t->flags & NFQ_FLAG_BYPASS) != 0;
    }
  } else if (name == "CT" && rev >= 1) {
    if (const auto* t = info<xt_ct_target_info_v1>(e, NFTNL_EXPR_TG_INFO); t != nullptr) {
      d.facts.notrack = (t->flags & XT_CT_NOTRACK) != 0;
      d.facts.ctHelperName.assign(t->helper, strnlen(t->helper, sizeof t->helper));
    }
  } else if (name == "HMARK" && rev == 0) {  // its only revision
    if (const auto* t = info<xt_hmark_info>(e, NFTNL_EXPR_TG_INFO); t != nullptr) {
      // The tuple is ordered before hashing: symmetric when both sides are masked alike.
      const bool symmetric = std::memcmp(&t->src_mask, &t->dst_mask, sizeof t->src_mask) == 0 &&
                             t->port_mask.p16.src == t->port_mask.p16.dst;
      d.facts.packetMarkSet = ConnHash{symmetric, t->hmodulus, t->hoffset};
    }
  } else if (name == "NOTRACK") {
    d.facts.notrack = true;
  } else if (name == "REJECT") {
    d.facts.verdict = RuleVerdict::Reject;
  } else if (name == "DNAT" || name == "REDIRECT") {
    d.facts.dnat = true;
  } else if (name == "SNAT" || name == "MASQUERADE") {
    d.facts.snat = true;
  }
}

int onExpr(nftnl_expr* e, void* data) {
  auto& d = *static_cast<Decoder*>(data);
  const std::string_view name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (name == "meta" || name == "payload" || name == "ct" || name == "bitwise") {
    onLoad(d, e, name);
  } else if (name == "cmp") {
    onCmp(d, e);
  } else if (name == "lookup") {
    onLookup(d, e);
  } else if (name == "range") {
    onRange(d, e);
  } else if (name == "immediate") {
    onImmediate(d, e);
  } else if (name == "counter") {
    d.facts.packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
  } else if (name == "queue") {
    onQueue(d, e);
  } else if (name == "hash") {
    onHash(d, e);
  } else if (name == "notrack") {
    d.facts.notrack = true;
  } else if (name == "objref") {
    if (nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_IMM_TYPE) &&
        nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE) == NFT_OBJECT_CT_HELPER) {
      d.facts.ctHelperObject = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME);
    }
  } else if (name == "nat") {
    const uint32_t type = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE);
    (type == NFT_NAT_DNAT ? d.facts.dnat : d.facts.snat) = true;
  } else if (name == "masq") {
    d.facts.snat = true;
  } else if (name == "redir") {
    d.facts.dnat = true;
  } else if (name == "reject") {
    d.facts.verdict = RuleVerdict::Reject;
  } else if (name == "match") {
    onCompatMatch(d, e);
  } else if (name == "target") {
    onCompatTarget(d, e);
  } else if (name != "log" && name != "dynset") {
    d.facts.otherCondition = true;  // fib, socket, exthdr, ...: a condition we do not read
  }
  return 0;
}

}  // namespace

RuleFacts decodeRule(const nftnl_rule* rule, const std::string& family, const PortSets& sets) {
  Decoder d;
  d.sets = &sets;
  d.facts.family = family;
  if (const char* t = nftnl_rule_get_str(rule, NFTNL_RULE_TABLE); t != nullptr) d.facts.table = t;
  if (const char* c = nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN); c != nullptr) d.facts.chain = c;
  d.facts.handle = nftnl_rule_get_u64(rule, NFTNL_RULE_HANDLE);
  d.setPrefix = family + "/" + d.facts.table + "/";
  nftnl_expr_foreach(const_cast<nftnl_rule*>(rule), onExpr, &d);
  return std::move(d.facts);
}

}  // namespace ftpalg::kernel::nft
