// PinholeKeeper: reads the pinhole table back (table comment, chains, rules, sets) and repairs
// or rebuilds it, each read a netlink dump on a socket of its own.
#include "ftpalg/kernel/pinhole_keeper.h"

#include <endian.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "kernel/netlink.h"
#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/nft_socket.h"
#include "kernel/nftables/nftnl_ptr.h"
#include "kernel/nftables/pinhole_messages.h"

namespace ftpalg::kernel {
namespace {

constexpr size_t kBatchBytes = 64 * 1024;
constexpr size_t kElementsPerBatch = 60;  // below NftBatch::kMaxMessages
constexpr uint32_t kDumpSeq = 1;

// The objects appendEnsure creates, read back from its own messages (so the check cannot drift
// from what is built).
struct Objects {
  std::set<std::string> sets;
  std::set<std::string> chains;
  std::map<std::string, size_t> rules;  // rules per chain
};

std::string attrText(const nlattr* a) {
  return a == nullptr ? std::string() : std::string(mnl_attr_get_str(a));
}

Objects objectsOf(const nft::NftBatch& batch) {
  Objects out;
  const std::span<const char> b = batch.bytes();
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(b.data());
  int left = static_cast<int>(b.size());
  for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
    if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES) continue;
    NlAttrTable t;
    if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collectNlAttr, &t) < 0) continue;
    switch (nlh->nlmsg_type & 0xff) {
      case NFT_MSG_NEWSET:
        out.sets.insert(attrText(t.tb[NFTA_SET_NAME]));
        break;
      case NFT_MSG_NEWCHAIN:
        out.chains.insert(attrText(t.tb[NFTA_CHAIN_NAME]));
        break;
      case NFT_MSG_NEWRULE:
        ++out.rules[attrText(t.tb[NFTA_RULE_CHAIN])];
        break;
      default:
        break;
    }
  }
  return out;
}

// FNV-1a over the bytes: the layout fingerprint.
uint64_t fnv1a(std::span<const char> bytes) {
  uint64_t h = 14695981039346656037ull;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// One set element as the kernel dumps it.
struct Element {
  std::vector<uint8_t> key;
  std::vector<uint8_t> data;
  uint64_t timeoutMs = 0;
  uint64_t remainingMs = 0;
};

// Runs one request (dump or single GET with ACK) on a fresh socket.
Status request(uint8_t cmd, uint16_t flags, uint16_t family,
               const std::vector<std::pair<uint16_t, std::string>>& attrs, mnl_cb_t cb, void* data,
               const char* what) {
  NetfilterSocket s;
  if (Status st = openNetfilterSocket(s, "nft: open netlink socket", "nft: bind netlink socket");
      !st.ok()) {
    return st;
  }
  std::array<char, 4096> buf{};
  nlmsghdr* nlh = putNfnlHeader(buf.data(), NFNL_SUBSYS_NFTABLES, cmd, flags, family, kDumpSeq);
  for (const auto& [type, text] : attrs) mnl_attr_put_strz(nlh, type, text.c_str());
  Status st = transact(s, nlh, cb, data, what);
  mnl_socket_close(s.nl);
  return st;
}

int onTable(const nlmsghdr* nlh, void* data) {
  auto* comment = static_cast<std::string*>(data);
  nft::TablePtr t(nftnl_table_alloc());
  if (!t || nftnl_table_nlmsg_parse(nlh, t.get()) < 0) return MNL_CB_OK;
  uint32_t len = 0;
  const void* ud = nftnl_table_get_data(t.get(), NFTNL_TABLE_USERDATA, &len);
  if (ud == nullptr) return MNL_CB_OK;
  std::array<const nftnl_udata*, NFTNL_UDATA_TABLE_MAX + 1> tb{};
  auto parse = [](const nftnl_udata* attr, void* arg) -> int {
    auto* out = static_cast<std::array<const nftnl_udata*, NFTNL_UDATA_TABLE_MAX + 1>*>(arg);
    if (nftnl_udata_type(attr) <= NFTNL_UDATA_TABLE_MAX) (*out)[nftnl_udata_type(attr)] = attr;
    return 0;
  };
  if (nftnl_udata_parse(ud, len, parse, &tb) < 0) return MNL_CB_OK;
  if (const nftnl_udata* c = tb[NFTNL_UDATA_TABLE_COMMENT]; c != nullptr) {
    const auto* p = static_cast<const char*>(nftnl_udata_get(c));
    *comment = std::string(p, strnlen(p, nftnl_udata_len(c)));
  }
  return MNL_CB_OK;
}

// Reads the table's comment; `exists` false on ENOENT.
Status readTable(uint16_t family, const std::string& name, bool& exists, std::string& comment) {
  Status s = request(NFT_MSG_GETTABLE, NLM_F_ACK, family, {{NFTA_TABLE_NAME, name}}, onTable,
                     &comment, "nft: get table");
  exists = s.ok();
  if (!s.ok() && s.err() == ENOENT) return {};
  return s;
}

// The chains, rules and sets of table `name` (inet) as the kernel has them.
struct Dumped {
  std::string table;
  Objects objects;
};

int onChain(const nlmsghdr* nlh, void* data) {
  auto* d = static_cast<Dumped*>(data);
  NlAttrTable t;
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collectNlAttr, &t) < 0) return MNL_CB_OK;
  if (attrText(t.tb[NFTA_CHAIN_TABLE]) == d->table) {
    d->objects.chains.insert(attrText(t.tb[NFTA_CHAIN_NAME]));
  }
  return MNL_CB_OK;
}
int onRule(const nlmsghdr* nlh, void* data) {
  auto* d = static_cast<Dumped*>(data);
  NlAttrTable t;
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collectNlAttr, &t) < 0) return MNL_CB_OK;
  if (attrText(t.tb[NFTA_RULE_TABLE]) == d->table)
    ++d->objects.rules[attrText(t.tb[NFTA_RULE_CHAIN])];
  return MNL_CB_OK;
}
int onSet(const nlmsghdr* nlh, void* data) {
  auto* d = static_cast<Dumped*>(data);
  NlAttrTable t;
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collectNlAttr, &t) < 0) return MNL_CB_OK;
  if (attrText(t.tb[NFTA_SET_TABLE]) == d->table)
    d->objects.sets.insert(attrText(t.tb[NFTA_SET_NAME]));
  return MNL_CB_OK;
}

Status dumpObjects(uint16_t family, const std::string& table, Objects& out) {
  Dumped d{table, {}};
  const std::vector<std::pair<uint16_t, std::string>> none;
  if (Status s =
          request(NFT_MSG_GETCHAIN, NLM_F_DUMP, family, none, onChain, &d, "nft: list chains");
      !s.ok()) {
    return s;
  }
  if (Status s = request(NFT_MSG_GETRULE, NLM_F_DUMP, family, {{NFTA_RULE_TABLE, table}}, onRule,
                         &d, "nft: list rules");
      !s.ok()) {
    return s;
  }
  if (Status s = request(NFT_MSG_GETSET, NLM_F_DUMP, family, {{NFTA_SET_TABLE, table}}, onSet, &d,
                         "nft: list sets");
      !s.ok()) {
    return s;
  }
  out = std::move(d.objects);
  return {};
}

int onElements(const nlmsghdr* nlh, void* data) {
  auto* out = static_cast<std::vector<Element>*>(data);
  nft::SetPtr s(nftnl_set_alloc());
  if (!s || nftnl_set_elems_nlmsg_parse(nlh, s.get()) < 0) return MNL_CB_OK;
  nftnl_set_elems_iter* it = nftnl_set_elems_iter_create(s.get());
  if (it == nullptr) return MNL_CB_OK;
  for (nftnl_set_elem* e = nftnl_set_elems_iter_next(it); e != nullptr;
       e = nftnl_set_elems_iter_next(it)) {
    Element el;
    uint32_t len = 0;
    if (const auto* k =
            static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len));
        k != nullptr) {
      el.key.assign(k, k + len);
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA)) {
      const auto* d = static_cast<const uint8_t*>(nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len));
      if (d != nullptr) el.data.assign(d, d + len);
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT)) {
      el.timeoutMs = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION)) {
      el.remainingMs = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
    }
    out->push_back(std::move(el));
  }
  nftnl_set_elems_iter_destroy(it);
  return MNL_CB_OK;
}

Status dumpElements(const std::string& table, const std::string& set, std::vector<Element>& out) {
  return request(NFT_MSG_GETSETELEM, NLM_F_DUMP, NFPROTO_INET,
                 {{NFTA_SET_ELEM_LIST_TABLE, table}, {NFTA_SET_ELEM_LIST_SET, set}}, onElements,
                 &out, "nft: list set elements");
}

// One element with its timeout and its remaining time (the kernel takes an expiration on add).
bool putElement(nft::NftBatch& batch, const std::string& table, const std::string& set,
                const Element& el, uint32_t defaultMs) {
  nlmsghdr* nlh = batch.begin(NFT_MSG_NEWSETELEM, NFPROTO_INET, NLM_F_CREATE,
                              "nft: copy element into the rebuilt table");
  if (nlh == nullptr) return false;
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set.c_str());
  nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
  const uint64_t timeout = el.timeoutMs > 0 ? el.timeoutMs : defaultMs;
  mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(timeout));
  if (el.remainingMs > 0 && el.remainingMs <= timeout) {
    mnl_attr_put_u64(nlh, NFTA_SET_ELEM_EXPIRATION, htobe64(el.remainingMs));
  }
  nlattr* k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
  mnl_attr_put(nlh, NFTA_DATA_VALUE, el.key.size(), el.key.data());
  mnl_attr_nest_end(nlh, k);
  if (!el.data.empty()) {
    nlattr* d = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
    mnl_attr_put(nlh, NFTA_DATA_VALUE, el.data.size(), el.data.data());
    mnl_attr_nest_end(nlh, d);
  }
  mnl_attr_nest_end(nlh, elem);
  mnl_attr_nest_end(nlh, list);
  return batch.end();
}

std::string missingText(const Objects& want, const Objects& have) {
  for (const std::string& c : want.chains) {
    if (have.chains.count(c) == 0) return fmt::format("chain {} missing", c);
  }
  for (const std::string& s : want.sets) {
    if (have.sets.count(s) == 0) return fmt::format("set {} missing", s);
  }
  for (const auto& [chain, n] : want.rules) {
    const auto it = have.rules.find(chain);
    const size_t got = it == have.rules.end() ? 0 : it->second;
    if (got != n) return fmt::format("chain {}: {} of {} rules", chain, got, n);
  }
  return {};
}

}  // namespace

class PinholeKeeperImpl {
 public:
  explicit PinholeKeeperImpl(PinholeConfig cfg) : cfg_(std::move(cfg)) {
    std::vector<char> buf(kBatchBytes);
    nft::NftBatch batch(buf, 0);
    (void)nft::appendEnsure(batch, cfg_, "");
    (void)batch.finish();
    want_ = objectsOf(batch);
    comment_ = fmt::format("ftpalgd pinholes, layout {:016x}", fnv1a(batch.bytes()));
  }

  Status check(TableCheck& out) {
    bool exists = false;
    std::string comment;
    if (Status s = readTable(NFPROTO_INET, cfg_.table, exists, comment); !s.ok()) return s;
    if (!exists) {
      out = {TableState::Missing, "no such table"};
      return {};
    }
    if (comment != comment_) {
      out = {TableState::OtherLayout,
             comment.empty() ? "no layout comment" : fmt::format("comment \"{}\"", comment)};
      return {};
    }
    Objects have;
    if (Status s = dumpObjects(NFPROTO_INET, cfg_.table, have); !s.ok()) return s;
    const std::string why = missingText(want_, have);
    out = {why.empty() ? TableState::Intact : TableState::Damaged, why};
    return {};
  }

  Status ensure(EnsureResult& out) {
    const auto start = std::chrono::steady_clock::now();
    out = {};
    if (Status s = check(out.before); !s.ok()) return s;
    Status s;
    if (out.before.state == TableState::OtherLayout) {
      s = rebuild(out);
    } else if (out.before.state != TableState::Intact) {
      s = commitEnsure();
      // A set or chain of the same name with other properties: rebuild.
      if (!s.ok() && s.err() == EEXIST) s = rebuild(out);
    }
    if (s.ok()) s = countPending(out.pending);
    out.elapsedMs = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - start)
                                              .count());
    return s;
  }

  Status remove() {
    nft::NftSocket sock;
    if (Status s = sock.open(); !s.ok()) return s;
    std::array<char, 4096> buf{};
    nft::NftBatch batch(buf, sock.reserveSeq(1));
    if (!nft::appendRemove(batch, cfg_) || !batch.finish()) {
      return Status::error(EMSGSIZE, "nft: remove: batch too large");
    }
    return sock.commit(batch, ENOENT);
  }

  [[nodiscard]] const std::string& comment() const { return comment_; }

 private:
  Status commitEnsure() {
    nft::NftSocket sock;
    if (Status s = sock.open(); !s.ok()) return s;
    std::vector<char> buf(kBatchBytes);
    nft::NftBatch batch(buf, sock.reserveSeq(nft::NftBatch::kMaxMessages));
    if (!nft::appendEnsure(batch, cfg_, comment_) || !batch.finish()) {
      return Status::error(EMSGSIZE, "nft: ensure: batch too large");
    }
    return sock.commit(batch);
  }

  // Copies the elements out, replaces the table, copies them back with their remaining time.
  Status rebuild(EnsureResult& out) {
    out.rebuilt = true;
    std::map<std::string, std::vector<Element>> kept;
    for (const std::string& set : want_.sets) {
      std::vector<Element> els;
      if (dumpElements(cfg_.table, set, els).ok()) kept[set] = std::move(els);
    }
    nft::NftSocket sock;
    if (Status s = sock.open(); !s.ok()) return s;
    {
      std::vector<char> buf(kBatchBytes);
      nft::NftBatch batch(buf, sock.reserveSeq(nft::NftBatch::kMaxMessages));
      if (!nft::appendReplace(batch, cfg_, comment_) || !batch.finish()) {
        return Status::error(EMSGSIZE, "nft: rebuild: batch too large");
      }
      if (Status s = sock.commit(batch); !s.ok()) return s;
    }
    for (const auto& [set, els] : kept) {
      for (size_t i = 0; i < els.size(); i += kElementsPerBatch) {
        std::vector<char> buf(kBatchBytes);
        nft::NftBatch batch(buf, sock.reserveSeq(kElementsPerBatch));
        size_t n = 0;
        for (size_t j = i; j < els.size() && j < i + kElementsPerBatch; ++j, ++n) {
          (void)putElement(batch, cfg_.table, set, els[j], cfg_.timeoutMs);
        }
        // A key of the old layout the new set does not take: lost, the rest is kept.
        if (!batch.finish() || !sock.commit(batch).ok()) out.lost += n;
      }
    }
    return {};
  }

  Status countPending(size_t& out) {
    out = 0;
    for (const char* set : {nft::kPinSet4, nft::kPinSet6}) {
      std::vector<Element> els;
      if (Status s = dumpElements(cfg_.table, set, els); !s.ok()) return s;
      out += els.size();
    }
    return {};
  }

  PinholeConfig cfg_;
  Objects want_;
  std::string comment_;
};

PinholeKeeper::PinholeKeeper(PinholeConfig cfg)
    : impl_(std::make_unique<PinholeKeeperImpl>(std::move(cfg))) {}
PinholeKeeper::~PinholeKeeper() = default;
Status PinholeKeeper::check(TableCheck& out) { return impl_->check(out); }
Status PinholeKeeper::ensure(EnsureResult& out) { return impl_->ensure(out); }
Status PinholeKeeper::remove() { return impl_->remove(); }
const std::string& PinholeKeeper::comment() const { return impl_->comment(); }

Status listTables(const std::string& name, std::vector<TableRules>& out) {
  out.clear();
  for (uint16_t family : {NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6}) {
    bool exists = false;
    std::string comment;
    if (Status s = readTable(family, name, exists, comment); !s.ok()) return s;
    if (!exists) continue;
    Dumped d{name, {}};
    if (Status s = request(NFT_MSG_GETRULE, NLM_F_DUMP, family, {{NFTA_RULE_TABLE, name}}, onRule,
                           &d, "nft: list rules");
        !s.ok()) {
      return s;
    }
    TableRules t{family, 0};
    for (const auto& [chain, n] : d.objects.rules) t.rules += n;
    out.push_back(t);
  }
  return {};
}

}  // namespace ftpalg::kernel
