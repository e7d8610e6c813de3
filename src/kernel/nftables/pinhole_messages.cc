#include "kernel/nftables/pinhole_messages.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "kernel/nftables/nftnl_ptr.h"

namespace ftpalg::kernel::nft {
namespace {

// Allocation failure while building the ruleset is not recoverable in any useful way: abort.
template <typename T>
T* need(T* p) {
  if (p == nullptr) {
    std::abort();
  }
  return p;
}

constexpr uint8_t kCtDirOriginal = 0;  // IP_CT_DIR_ORIGINAL

// Standard hook priorities (nft's `dstnat`, `filter` and `srcnat`).
constexpr int32_t kPrioDstnat = -100;
constexpr int32_t kPrioFilter = 0;
constexpr int32_t kPrioSrcnat = 100;

// Family-specific layout of the rules.
struct FamilyLayout {
  uint8_t nfproto;       // NFPROTO_IPV4 / NFPROTO_IPV6
  uint32_t addrLen;      // 4 / 16
  uint32_t saddrOffset;  // network header offset of the source address
  uint32_t daddrOffset;  // ... of the destination address
  uint32_t regSrc;       // registers holding the concatenated key
  uint32_t regDst;
  uint32_t regPort;
  uint32_t regNatPort;  // where the NAT map value's port lands (after the address)
  uint32_t keyType;
  uint32_t dataType;  // NAT map value: address . port
  uint32_t addrType;  // source NAT map value: address
  const char* pinSet;
  const char* natMap;
  const char* snatMap;
  uint32_t pinSetId;
  uint32_t natMapId;
  uint32_t snatMapId;
  const char* natUseSet;
  uint32_t natUseSetId;
};

// The three sets of a family.
enum class SetKind : uint8_t { Pin, Nat, Snat, NatUse };

constexpr FamilyLayout kV4{NFPROTO_IPV4,
                           4,
                           12,
                           16,
                           NFT_REG32_00,
                           NFT_REG32_01,
                           NFT_REG32_02,
                           NFT_REG32_01,
                           concatType(concatType(kTypeIpv4, kTypeIpv4), kTypeInetService),
                           concatType(kTypeIpv4, kTypeInetService),
                           kTypeIpv4,
                           kPinSet4,
                           kNatMap4,
                           kSnatMap4,
                           1,
                           2,
                           5,
                           kNatUseSet4,
                           7};
constexpr FamilyLayout kV6{NFPROTO_IPV6,
                           16,
                           8,
                           24,
                           NFT_REG32_00,
                           NFT_REG32_04,
                           NFT_REG32_08,
                           NFT_REG32_04,
                           concatType(concatType(kTypeIpv6, kTypeIpv6), kTypeInetService),
                           concatType(kTypeIpv6, kTypeInetService),
                           kTypeIpv6,
                           kPinSet6,
                           kNatMap6,
                           kSnatMap6,
                           3,
                           4,
                           6,
                           kNatUseSet6,
                           8};

uint32_t keyLen(const FamilyLayout& f) { return 2 * f.addrLen + 4; }
uint32_t dataLen(const FamilyLayout& f) { return f.addrLen + 4; }

const char* setName(const FamilyLayout& f, SetKind kind) {
  switch (kind) {
    case SetKind::Pin:
      return f.pinSet;
    case SetKind::Nat:
      return f.natMap;
    case SetKind::Snat:
      return f.snatMap;
    case SetKind::NatUse:
      break;
  }
  return f.natUseSet;
}
uint32_t setId(const FamilyLayout& f, SetKind kind) {
  switch (kind) {
    case SetKind::Pin:
      return f.pinSetId;
    case SetKind::Nat:
      return f.natMapId;
    case SetKind::Snat:
      return f.snatMapId;
    case SetKind::NatUse:
      break;
  }
  return f.natUseSetId;
}

bool putTable(NftBatch& batch, const PinholeConfig& cfg, uint16_t type, uint16_t flags,
              std::string_view label, std::string_view comment = {}) {
  TablePtr t(need(nftnl_table_alloc()));
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, cfg.table.c_str());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  // The comment as nft writes it (`nft list table` shows it): one TLV in the user data.
  if (!comment.empty()) {
    constexpr size_t kMaxComment = 120;  // nft's own limit is 128 bytes
    nftnl_udata_buf* ub = need(nftnl_udata_buf_alloc(kMaxComment + 8));
    const std::string text(comment.substr(0, kMaxComment));
    nftnl_udata_put_strz(ub, NFTNL_UDATA_TABLE_COMMENT, text.c_str());
    nftnl_table_set_data(t.get(), NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(ub),
                         nftnl_udata_buf_len(ub));
    nftnl_udata_buf_free(ub);
  }
  nlmsghdr* nlh = batch.begin(type, NFPROTO_INET, flags, label);
  if (nlh == nullptr) {
    return false;
  }
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  return batch.end();
}

bool putSet(NftBatch& batch, const PinholeConfig& cfg, const FamilyLayout& f, SetKind kind) {
  const bool map = kind == SetKind::Nat || kind == SetKind::Snat;
  SetPtr s(need(nftnl_set_alloc()));
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, cfg.table.c_str());
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, setName(f, kind));
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
  nftnl_set_set_u32(s.get(), NFTNL_SET_ID, setId(f, kind));
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, f.keyType);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, keyLen(f));
  nftnl_set_set_u32(s.get(), NFTNL_SET_DESC_SIZE, kSetSize);
  if (map) {
    const bool snat = kind == SetKind::Snat;
    nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, NFT_SET_MAP | NFT_SET_TIMEOUT);
    nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_TYPE, snat ? f.addrType : f.dataType);
    nftnl_set_set_u32(s.get(), NFTNL_SET_DATA_LEN, snat ? f.addrLen : dataLen(f));
  } else {
    // EVAL: the pin and natuse rules delete elements from the packet path.
    nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
  }
  nlmsghdr* nlh = batch.begin(NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE,
                              map ? "nft: add map" : "nft: add set");
  if (nlh == nullptr) {
    return false;
  }
  nftnl_set_nlmsg_build_payload(nlh, s.get());
  return batch.end();
}

bool putChain(NftBatch& batch, const PinholeConfig& cfg, const char* name, const char* type,
              uint32_t hook, int32_t prio) {
  ChainPtr c(need(nftnl_chain_alloc()));
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, cfg.table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, type);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, prio);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
  nlmsghdr* nlh = batch.begin(NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE, "nft: add chain");
  if (nlh == nullptr) {
    return false;
  }
  nftnl_chain_nlmsg_build_payload(nlh, c.get());
  return batch.end();
}

// Deletes every rule of the chain (a DELRULE naming only table and chain).
bool putFlushChain(NftBatch& batch, const PinholeConfig& cfg, const char* name) {
  RulePtr r(need(nftnl_rule_alloc()));
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, cfg.table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, name);
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nlmsghdr* nlh = batch.begin(NFT_MSG_DELRULE, NFPROTO_INET, 0, "nft: flush chain");
  if (nlh == nullptr) {
    return false;
  }
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  return batch.end();
}

// Expression helpers: each appends one expression to the rule.
class RuleWriter {
 public:
  explicit RuleWriter(nftnl_rule* r) : r_(r) {}

  void meta(uint32_t key, uint32_t dreg) {
    nftnl_expr* e = make("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
  }
  void cmpU8(uint32_t sreg, uint32_t op, uint8_t value) {
    nftnl_expr* e = make("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, &value, sizeof(value));
  }
  void cmpU32(uint32_t sreg, uint32_t op, uint32_t value) {
    nftnl_expr* e = make("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set_data(e, NFTNL_EXPR_CMP_DATA, &value, sizeof(value));
  }
  void payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg) {
    nftnl_expr* e = make("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
  }
  // `ct state new`: load state, mask the NEW bit, compare non-zero.
  void ctStateNew() {
    nftnl_expr* ct = make("ct");
    nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
    nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_DREG, NFT_REG_1);
    const uint32_t mask = NF_CT_STATE_BIT(IP_CT_NEW);
    const uint32_t zero = 0;
    nftnl_expr* bw = make("bitwise");
    nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
    nftnl_expr_set_data(bw, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
    nftnl_expr_set_data(bw, NFTNL_EXPR_BITWISE_XOR, &zero, sizeof(zero));
    cmpU32(NFT_REG_1, NFT_CMP_NEQ, 0);
  }
  // nfproto == family && l4proto == tcp, then src . dst . dport into the key registers.
  void loadKey(const FamilyLayout& f) {
    payload(NFT_PAYLOAD_NETWORK_HEADER, f.saddrOffset, f.addrLen, f.regSrc);
    payload(NFT_PAYLOAD_NETWORK_HEADER, f.daddrOffset, f.addrLen, f.regDst);
    payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, f.regPort);
  }
  // ip saddr . ct original ip daddr . ct original proto-dst: the destination as the connection
  // dialled it, before DNAT (postrouting's header carries the one after it).
  void loadDialledKey(const FamilyLayout& f) {
    payload(NFT_PAYLOAD_NETWORK_HEADER, f.saddrOffset, f.addrLen, f.regSrc);
    ctOriginal(f.nfproto == NFPROTO_IPV4 ? NFT_CT_DST_IP : NFT_CT_DST_IP6, f.regDst);
    ctOriginal(NFT_CT_PROTO_DST, f.regPort);
  }
  void ctOriginal(uint32_t key, uint32_t dreg) {
    nftnl_expr* e = make("ct");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
    nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, kCtDirOriginal);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
  }
  void matchFamilyTcp(const FamilyLayout& f) {
    meta(NFT_META_NFPROTO, NFT_REG_1);
    cmpU8(NFT_REG_1, NFT_CMP_EQ, f.nfproto);
    meta(NFT_META_L4PROTO, NFT_REG_1);
    cmpU8(NFT_REG_1, NFT_CMP_EQ, IPPROTO_TCP);
  }
  void lookup(const char* set, uint32_t setId, uint32_t sreg, bool withDreg, uint32_t dreg,
              bool inverted = false) {
    nftnl_expr* e = make("lookup");
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, setId);
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
    if (withDreg) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg);
    }
    if (inverted) {
      nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
    }
  }
  void dynsetDelete(const char* set, uint32_t setId, uint32_t sreg) {
    nftnl_expr* e = make("dynset");
    nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
    nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, setId);
    nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_DELETE);
  }
  void ctSetMark(uint32_t mark) {
    nftnl_expr* imm = make("immediate");
    nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
    nftnl_expr_set_data(imm, NFTNL_EXPR_IMM_DATA, &mark, sizeof(mark));
    nftnl_expr* ct = make("ct");
    nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_MARK);
    nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_SREG, NFT_REG_1);
  }
  // `ct label set` of a 16-byte register holding zero: the kernel ORs it into the entry's
  // labels (nft_ct_set_eval), so it changes nothing; its presence makes the kernel allocate the
  // labels extension for new entries (nft_ct_set_init takes nf_connlabels_get).
  void ctSetLabelsNone() {
    const std::array<uint8_t, 16> zero{};
    nftnl_expr* imm = make("immediate");
    nftnl_expr_set_u32(imm, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
    nftnl_expr_set_data(imm, NFTNL_EXPR_IMM_DATA, zero.data(), zero.size());
    nftnl_expr* ct = make("ct");
    nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_KEY, NFT_CT_LABELS);
    nftnl_expr_set_u32(ct, NFTNL_EXPR_CT_SREG, NFT_REG_1);
  }
  void counter() { make("counter"); }
  void accept() {
    nftnl_expr* e = make("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
  }
  void dnat(const FamilyLayout& f) {
    nftnl_expr* e = make("nat");
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, f.nfproto);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, f.regNatPort);
  }
  // Address only: the source port is kept (unless it clashes).
  void snat(const FamilyLayout& f) {
    nftnl_expr* e = make("nat");
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, f.nfproto);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
  }

 private:
  nftnl_expr* make(const char* name) {
    nftnl_expr* e = need(nftnl_expr_alloc(name));
    nftnl_rule_add_expr(r_, e);  // the rule owns it from here
    return e;
  }
  nftnl_rule* r_;
};

bool putRule(NftBatch& batch, const PinholeConfig& cfg, const char* chain,
             void (*fill)(RuleWriter&, const FamilyLayout&, const PinholeConfig&),
             const FamilyLayout& f, bool atHead = false) {
  RulePtr r(need(nftnl_rule_alloc()));
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, cfg.table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain);
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  RuleWriter w(r.get());
  fill(w, f, cfg);
  // Without NLM_F_APPEND the kernel puts the rule first in its chain.
  nlmsghdr* nlh = batch.begin(NFT_MSG_NEWRULE, NFPROTO_INET,
                              atHead ? NLM_F_CREATE : NLM_F_CREATE | NLM_F_APPEND, "nft: add rule");
  if (nlh == nullptr) {
    return false;
  }
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  return batch.end();
}

// dnat ip to ip saddr . ip daddr . tcp dport map @nat4
void fillPre(RuleWriter& w, const FamilyLayout& f, const PinholeConfig&) {
  w.matchFamilyTcp(f);
  w.loadKey(f);
  w.lookup(f.natMap, f.natMapId, f.regSrc, true, NFT_REG32_00);
  w.dnat(f);
}

// Single use of a data connection's NAT (first in chain pre): the nat map element acts only
// for the first new connection of its key. A connection whose key is not (any more) in
// @natuse4 leaves the chain before the dnat rule, so it reaches whatever else the ruleset does
// with that address and port (an admin's published port forward); the first one takes the
// mark out and goes on to the dnat rule.
//   ip saddr . ip daddr . tcp dport != @natuse4 accept
void fillPreUnused(RuleWriter& w, const FamilyLayout& f, const PinholeConfig&) {
  w.matchFamilyTcp(f);
  w.loadKey(f);
  w.lookup(f.natUseSet, f.natUseSetId, f.regSrc, false, 0, true);
  w.accept();
}
//   ip saddr . ip daddr . tcp dport @natuse4 delete @natuse4 { ip saddr . ip daddr . tcp dport }
void fillPreUse(RuleWriter& w, const FamilyLayout& f, const PinholeConfig&) {
  w.matchFamilyTcp(f);
  w.loadKey(f);
  w.lookup(f.natUseSet, f.natUseSetId, f.regSrc, false, 0);
  w.loadKey(f);
  w.dynsetDelete(f.natUseSet, f.natUseSetId, f.regSrc);
}

// snat ip to ip saddr . ct original ip daddr . ct original proto-dst map @snat4
// Keyed like the nat map, by the destination the connection dialled: the tuple after DNAT (the
// pin key) is also what a connection routed straight to the same server port has, and that one
// must keep its source (two sessions of one client, one through DNAT and SNAT, one routed, whose
// servers chose the same passive port).
void fillPost(RuleWriter& w, const FamilyLayout& f, const PinholeConfig&) {
  w.matchFamilyTcp(f);
  w.loadDialledKey(f);
  w.lookup(f.snatMap, f.snatMapId, f.regSrc, true, NFT_REG32_00);
  w.snat(f);
}

// ct state new ip saddr . ip daddr . tcp dport @pin4
//   delete @pin4 { ip saddr . ip daddr . tcp dport } ct mark set <mark> counter accept
void fillPin(RuleWriter& w, const FamilyLayout& f, const PinholeConfig& cfg) {
  w.ctStateNew();
  w.matchFamilyTcp(f);
  w.loadKey(f);
  w.lookup(f.pinSet, f.pinSetId, f.regSrc, false, 0);
  w.loadKey(f);
  w.dynsetDelete(f.pinSet, f.pinSetId, f.regSrc);
  w.ctSetMark(cfg.ctMark);
  w.counter();
  w.accept();
}

// ct state new meta l4proto tcp ct label set 0 (conntrack_state: the labels extension)
void fillLabels(RuleWriter& w, const FamilyLayout&, const PinholeConfig&) {
  w.ctStateNew();
  w.meta(NFT_META_L4PROTO, NFT_REG_1);
  w.cmpU8(NFT_REG_1, NFT_CMP_EQ, IPPROTO_TCP);
  w.ctSetLabelsNone();
}

// One set element (key, optional map value, timeout) with libmnl only: no allocation.
bool putElement(NftBatch& batch, const PinholeConfig& cfg, const char* set, const PackedKey& key,
                const PackedKey* data, std::string_view label) {
  nlmsghdr* nlh = batch.begin(NFT_MSG_NEWSETELEM, NFPROTO_INET, NLM_F_CREATE, label);
  if (nlh == nullptr) {
    return false;
  }
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, cfg.table.c_str());
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
  nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(uint64_t{cfg.timeoutMs}));
  nlattr* k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
  mnl_attr_put(nlh, NFTA_DATA_VALUE, key.len, key.bytes.data());
  mnl_attr_nest_end(nlh, k);
  if (data != nullptr) {
    nlattr* d = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, data->len, data->bytes.data());
    mnl_attr_nest_end(nlh, d);
  }
  mnl_attr_nest_end(nlh, elem);
  mnl_attr_nest_end(nlh, list);
  return batch.end();
}

void putPort(PackedKey& k, uint16_t port) {
  k.bytes[k.len] = static_cast<uint8_t>(port >> 8);
  k.bytes[k.len + 1] = static_cast<uint8_t>(port & 0xff);
  k.len += 4;  // two bytes of padding (zero)
}

void putAddr(PackedKey& k, const core::IpAddr& a) {
  const size_t n = a.size();
  std::memcpy(k.bytes.data() + k.len, a.bytes.data(), n);
  k.len += static_cast<uint32_t>(n);
}

bool validFamily(const core::IpAddr& a) {
  return a.family == core::Family::V4 || a.family == core::Family::V6;
}

}  // namespace

PackedKey packAddrAddrPort(const core::IpAddr& a, const core::IpAddr& b, uint16_t port) {
  PackedKey k;
  putAddr(k, a);
  putAddr(k, b);
  putPort(k, port);
  return k;
}

PackedKey packAddrPort(const core::IpAddr& a, uint16_t port) {
  PackedKey k;
  putAddr(k, a);
  putPort(k, port);
  return k;
}

PackedKey packAddr(const core::IpAddr& a) {
  PackedKey k;
  putAddr(k, a);
  return k;
}

namespace {

// Sets, maps, chains and rules of the table (which the batch already created or which exists);
// with `flush` every chain's old rules go first, in the same transaction.
bool appendContents(NftBatch& batch, const PinholeConfig& cfg, bool flush) {
  bool ok = true;
  for (const FamilyLayout* f : {&kV4, &kV6}) {
    ok = ok && putSet(batch, cfg, *f, SetKind::Pin) && putSet(batch, cfg, *f, SetKind::Nat) &&
         putSet(batch, cfg, *f, SetKind::Snat);
  }
  ok = ok && putChain(batch, cfg, kPreChain, "nat", NF_INET_PRE_ROUTING, kPrioDstnat - 5);
  ok = ok && putChain(batch, cfg, kPinChain, "filter", NF_INET_FORWARD, kPrioFilter - 5);
  ok = ok && putChain(batch, cfg, kPostChain, "nat", NF_INET_POST_ROUTING, kPrioSrcnat - 5);
  if (flush) {
    for (const char* chain : {kPreChain, kPinChain, kPostChain}) {
      ok = ok && putFlushChain(batch, cfg, chain);
    }
  }
  for (const FamilyLayout* f : {&kV4, &kV6}) {
    ok = ok && putRule(batch, cfg, kPreChain, fillPre, *f);
    ok = ok && putRule(batch, cfg, kPinChain, fillPin, *f);
    ok = ok && putRule(batch, cfg, kPostChain, fillPost, *f);
  }
  if (cfg.ctLabels) ok = ok && putRule(batch, cfg, kPinChain, fillLabels, kV4);
  // Last in the batch, first in chain pre: the single-use marks of the NAT map elements. Each
  // rule goes to the head of the chain, so they are sent in reverse.
  for (const FamilyLayout* f : {&kV4, &kV6}) {
    ok = ok && putSet(batch, cfg, *f, SetKind::NatUse);
  }
  for (const FamilyLayout* f : {&kV6, &kV4}) {
    ok = ok && putRule(batch, cfg, kPreChain, fillPreUse, *f, true);
    ok = ok && putRule(batch, cfg, kPreChain, fillPreUnused, *f, true);
  }
  return ok;
}

}  // namespace

bool appendInstall(NftBatch& batch, const PinholeConfig& cfg) {
  return putTable(batch, cfg, NFT_MSG_NEWTABLE, NLM_F_CREATE, "nft: add table") &&
         putTable(batch, cfg, NFT_MSG_DELTABLE, 0, "nft: delete stale table") &&
         putTable(batch, cfg, NFT_MSG_NEWTABLE, NLM_F_CREATE, "nft: add table") &&
         appendContents(batch, cfg, false);
}

bool appendEnsure(NftBatch& batch, const PinholeConfig& cfg, std::string_view comment) {
  return putTable(batch, cfg, NFT_MSG_NEWTABLE, NLM_F_CREATE, "nft: add table", comment) &&
         appendContents(batch, cfg, true);
}

bool appendReplace(NftBatch& batch, const PinholeConfig& cfg, std::string_view comment) {
  return putTable(batch, cfg, NFT_MSG_NEWTABLE, NLM_F_CREATE, "nft: add table") &&
         putTable(batch, cfg, NFT_MSG_DELTABLE, 0, "nft: delete stale table") &&
         putTable(batch, cfg, NFT_MSG_NEWTABLE, NLM_F_CREATE, "nft: add table", comment) &&
         appendContents(batch, cfg, false);
}

bool appendRemove(NftBatch& batch, const PinholeConfig& cfg) {
  return putTable(batch, cfg, NFT_MSG_DELTABLE, 0, "nft: delete table");
}

Status appendAdmit(NftBatch& batch, const PinholeConfig& cfg, const core::Expectation& x) {
  const core::Family fam = x.src.addr.family;
  if (!validFamily(x.src.addr) || x.dst.addr.family != fam || x.natTo.addr.family != fam ||
      (x.hasSrcNat && x.srcNatTo.family != fam) || x.dst.port == 0 || x.natTo.port == 0) {
    return Status::error(EINVAL, "nft: admit: invalid expectation");
  }
  const bool v4 = fam == core::Family::V4;
  const PackedKey pin = packAddrAddrPort(x.src.addr, x.natTo.addr, x.natTo.port);
  if (!putElement(batch, cfg, v4 ? kPinSet4 : kPinSet6, pin, nullptr,
                  v4 ? "nft: add element to pin4" : "nft: add element to pin6")) {
    return Status::error(EMSGSIZE, "nft: admit: batch too large");
  }
  if (x.natTo != x.dst) {
    const PackedKey key = packAddrAddrPort(x.src.addr, x.dst.addr, x.dst.port);
    const PackedKey to = packAddrPort(x.natTo.addr, x.natTo.port);
    if (!putElement(batch, cfg, v4 ? kNatMap4 : kNatMap6, key, &to,
                    v4 ? "nft: add element to nat4" : "nft: add element to nat6")) {
      return Status::error(EMSGSIZE, "nft: admit: batch too large");
    }
  }
  if (x.hasSrcNat) {
    // Keyed by the dialled destination (chain post reads it from the conntrack's original
    // tuple): the nat map's key.
    const PackedKey key = packAddrAddrPort(x.src.addr, x.dst.addr, x.dst.port);
    const PackedKey to = packAddr(x.srcNatTo);
    if (!putElement(batch, cfg, v4 ? kSnatMap4 : kSnatMap6, key, &to,
                    v4 ? "nft: add element to snat4" : "nft: add element to snat6")) {
      return Status::error(EMSGSIZE, "nft: admit: batch too large");
    }
  }
  if (x.natTo != x.dst) {
    // The NAT map element's single use (chain pre): last, so the other elements keep their
    // place in the transaction.
    const PackedKey key = packAddrAddrPort(x.src.addr, x.dst.addr, x.dst.port);
    if (!putElement(batch, cfg, v4 ? kNatUseSet4 : kNatUseSet6, key, nullptr,
                    v4 ? "nft: add element to natuse4" : "nft: add element to natuse6")) {
      return Status::error(EMSGSIZE, "nft: admit: batch too large");
    }
  }
  return {};
}

}  // namespace ftpalg::kernel::nft
