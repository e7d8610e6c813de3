// readRuleset: one netlink dump per object type (tables, chains, sets and their elements, rules,
// ct helper objects) over all families, decoded with libnftnl.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "ftpalg/kernel/ruleset_facts.h"
#include "kernel/netlink.h"
#include "kernel/nftables/nftnl_ptr.h"
#include "kernel/nftables/rule_decoder.h"

namespace ftpalg::kernel {
namespace {

constexpr uint32_t kDumpSeq = 1;

std::string familyText(uint32_t family) {
  switch (family) {
    case NFPROTO_INET:
      return "inet";
    case NFPROTO_IPV4:
      return "ip";
    case NFPROTO_IPV6:
      return "ip6";
    case NFPROTO_ARP:
      return "arp";
    case NFPROTO_BRIDGE:
      return "bridge";
    case NFPROTO_NETDEV:
      return "netdev";
    default:
      return std::to_string(family);
  }
}

uint16_t familyNumber(const std::string& name) {
  if (name == "inet") return NFPROTO_INET;
  if (name == "ip") return NFPROTO_IPV4;
  if (name == "ip6") return NFPROTO_IPV6;
  if (name == "arp") return NFPROTO_ARP;
  if (name == "bridge") return NFPROTO_BRIDGE;
  return NFPROTO_NETDEV;
}

// One dump (or a GET) of `cmd` for `family` with string attributes, on a fresh socket.
Status dump(uint8_t cmd, uint16_t family,
            const std::vector<std::pair<uint16_t, std::string>>& attrs, mnl_cb_t cb, void* data,
            const char* what) {
  NetfilterSocket s;
  if (Status st = openNetfilterSocket(s, "nft: open netlink socket", "nft: bind netlink socket");
      !st.ok()) {
    return st;
  }
  std::array<char, 4096> buf{};
  nlmsghdr* nlh =
      putNfnlHeader(buf.data(), NFNL_SUBSYS_NFTABLES, cmd, NLM_F_DUMP, family, kDumpSeq);
  for (const auto& [type, text] : attrs) mnl_attr_put_strz(nlh, type, text.c_str());
  Status st = transact(s, nlh, cb, data, what);
  mnl_socket_close(s.nl);
  return st;
}

std::string tableComment(const nftnl_table* t) {
  uint32_t len = 0;
  const void* ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
  if (ud == nullptr) return {};
  std::array<const nftnl_udata*, NFTNL_UDATA_TABLE_MAX + 1> tb{};
  auto parse = [](const nftnl_udata* attr, void* arg) -> int {
    auto* out = static_cast<std::array<const nftnl_udata*, NFTNL_UDATA_TABLE_MAX + 1>*>(arg);
    if (nftnl_udata_type(attr) <= NFTNL_UDATA_TABLE_MAX) (*out)[nftnl_udata_type(attr)] = attr;
    return 0;
  };
  if (nftnl_udata_parse(ud, len, parse, &tb) < 0) return {};
  const nftnl_udata* c = tb[NFTNL_UDATA_TABLE_COMMENT];
  if (c == nullptr) return {};
  const auto* p = static_cast<const char*>(nftnl_udata_get(c));
  return {p, strnlen(p, nftnl_udata_len(c))};
}

int onTable(const nlmsghdr* nlh, void* data) {
  nft::TablePtr t(nftnl_table_alloc());
  if (!t || nftnl_table_nlmsg_parse(nlh, t.get()) < 0) return MNL_CB_OK;
  static_cast<Ruleset*>(data)->tables.push_back(
      {familyText(nftnl_table_get_u32(t.get(), NFTNL_TABLE_FAMILY)),
       nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME), tableComment(t.get())});
  return MNL_CB_OK;
}

NfHook hookOf(uint32_t family, uint32_t num) {
  if (family == NFPROTO_NETDEV) return NfHook::Ingress;
  return num <= NF_INET_POST_ROUTING ? static_cast<NfHook>(num) : NfHook::Ingress;
}

int onChain(const nlmsghdr* nlh, void* data) {
  nft::ChainPtr c(nftnl_chain_alloc());
  if (!c || nftnl_chain_nlmsg_parse(nlh, c.get()) < 0) return MNL_CB_OK;
  ChainFacts f;
  const uint32_t family = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_FAMILY);
  f.family = familyText(family);
  f.table = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TABLE);
  f.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
  if (nftnl_chain_is_set(c.get(), NFTNL_CHAIN_HOOKNUM)) {
    f.hook = hookOf(family, nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM));
    f.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
    if (const char* type = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE); type != nullptr) {
      f.type = type;
    }
    f.policyDrop = nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY) &&
                   nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY) == NF_DROP;
  }
  static_cast<Ruleset*>(data)->chains.push_back(std::move(f));
  return MNL_CB_OK;
}

// Sets keyed by one inet_service (2 bytes): candidates for `tcp dport { 21, 2121 }`.
struct PortSetName {
  std::string family, table, name;
  bool interval = false;
};

int onSet(const nlmsghdr* nlh, void* data) {
  nft::SetPtr s(nftnl_set_alloc());
  if (!s || nftnl_set_nlmsg_parse(nlh, s.get()) < 0) return MNL_CB_OK;
  if (nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_LEN) != 2) return MNL_CB_OK;
  if ((nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS) & NFT_SET_MAP) != 0) return MNL_CB_OK;
  static_cast<std::vector<PortSetName>*>(data)->push_back(
      {familyText(nftnl_set_get_u32(s.get(), NFTNL_SET_FAMILY)),
       nftnl_set_get_str(s.get(), NFTNL_SET_TABLE), nftnl_set_get_str(s.get(), NFTNL_SET_NAME),
       (nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS) & NFT_SET_INTERVAL) != 0});
  return MNL_CB_OK;
}

// Elements as (port, interval end flag), in dump order.
int onElements(const nlmsghdr* nlh, void* data) {
  auto* out = static_cast<std::vector<std::pair<uint16_t, bool>>*>(data);
  nft::SetPtr s(nftnl_set_alloc());
  if (!s || nftnl_set_elems_nlmsg_parse(nlh, s.get()) < 0) return MNL_CB_OK;
  nftnl_set_elems_iter* it = nftnl_set_elems_iter_create(s.get());
  if (it == nullptr) return MNL_CB_OK;
  for (nftnl_set_elem* e = nftnl_set_elems_iter_next(it); e != nullptr;
       e = nftnl_set_elems_iter_next(it)) {
    uint32_t len = 0;
    const void* k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    uint16_t be = 0;
    if (k != nullptr && len >= 2) std::memcpy(&be, k, 2);
    const bool end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
                     (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
    out->emplace_back(ntohs(be), end);
  }
  nftnl_set_elems_iter_destroy(it);
  return MNL_CB_OK;
}

// Interval sets store [start, end + 1) as a start element and an end element (any order).
std::vector<PortRange> toRanges(std::vector<std::pair<uint16_t, bool>> els, bool interval) {
  std::vector<PortRange> out;
  if (!interval) {
    for (const auto& [p, end] : els) out.emplace_back(p, p);
    return out;
  }
  std::sort(els.begin(), els.end());
  for (size_t i = 0; i < els.size(); ++i) {
    if (els[i].second) continue;
    uint16_t hi = 0xffff;
    for (size_t j = i + 1; j < els.size(); ++j) {
      if (els[j].second) {
        hi = static_cast<uint16_t>(els[j].first - 1);
        break;
      }
    }
    out.emplace_back(els[i].first, hi);
  }
  return out;
}

struct RuleDump {
  Ruleset* out;
  const nft::PortSets* sets;
};

int onRule(const nlmsghdr* nlh, void* data) {
  auto* d = static_cast<RuleDump*>(data);
  nft::RulePtr r(nftnl_rule_alloc());
  if (!r || nftnl_rule_nlmsg_parse(nlh, r.get()) < 0) return MNL_CB_OK;
  d->out->rules.push_back(nft::decodeRule(
      r.get(), familyText(nftnl_rule_get_u32(r.get(), NFTNL_RULE_FAMILY)), *d->sets));
  return MNL_CB_OK;
}

int onObject(const nlmsghdr* nlh, void* data) {
  nft::ObjPtr o(nftnl_obj_alloc());
  if (!o || nftnl_obj_nlmsg_parse(nlh, o.get()) < 0) return MNL_CB_OK;
  if (nftnl_obj_get_u32(o.get(), NFTNL_OBJ_TYPE) != NFT_OBJECT_CT_HELPER) return MNL_CB_OK;
  const char* helper = nftnl_obj_get_str(o.get(), NFTNL_OBJ_CT_HELPER_NAME);
  static_cast<Ruleset*>(data)->helpers.push_back(
      {familyText(nftnl_obj_get_u32(o.get(), NFTNL_OBJ_FAMILY)),
       nftnl_obj_get_str(o.get(), NFTNL_OBJ_TABLE), nftnl_obj_get_str(o.get(), NFTNL_OBJ_NAME),
       helper != nullptr ? helper : ""});
  return MNL_CB_OK;
}

}  // namespace

std::string_view hookName(NfHook hook) {
  constexpr std::array<std::string_view, 7> kNames{"prerouting",  "input",   "forward", "output",
                                                   "postrouting", "ingress", "none"};
  return kNames[static_cast<size_t>(hook)];
}

Status readRuleset(Ruleset& out) {
  Ruleset r;
  const std::vector<std::pair<uint16_t, std::string>> none;
  if (Status s = dump(NFT_MSG_GETTABLE, NFPROTO_UNSPEC, none, onTable, &r, "nft: list tables");
      !s.ok()) {
    return s;
  }
  if (Status s = dump(NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, none, onChain, &r, "nft: list chains");
      !s.ok()) {
    return s;
  }
  std::vector<PortSetName> names;
  if (Status s = dump(NFT_MSG_GETSET, NFPROTO_UNSPEC, none, onSet, &names, "nft: list sets");
      !s.ok()) {
    return s;
  }
  nft::PortSets sets;
  for (const PortSetName& n : names) {
    std::vector<std::pair<uint16_t, bool>> els;
    if (dump(NFT_MSG_GETSETELEM, familyNumber(n.family),
             {{NFTA_SET_ELEM_LIST_TABLE, n.table}, {NFTA_SET_ELEM_LIST_SET, n.name}}, onElements,
             &els, "nft: list set elements")
            .ok()) {
      sets[n.family + "/" + n.table + "/" + n.name] = toRanges(std::move(els), n.interval);
    }
  }
  RuleDump rd{&r, &sets};
  if (Status s = dump(NFT_MSG_GETRULE, NFPROTO_UNSPEC, none, onRule, &rd, "nft: list rules");
      !s.ok()) {
    return s;
  }
  if (Status s = dump(NFT_MSG_GETOBJ, NFPROTO_UNSPEC, none, onObject, &r, "nft: list objects");
      !s.ok()) {
    return s;
  }
  out = std::move(r);
  return {};
}

}  // namespace ftpalg::kernel
