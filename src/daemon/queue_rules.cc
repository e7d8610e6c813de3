#include "daemon/queue_rules.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <span>
#include <vector>

namespace ftpalg::daemon {

RuleSpec ruleSpec(const DaemonConfig& cfg) {
  RuleSpec s;
  s.firstQueue = cfg.queues.front();
  s.queueCount = static_cast<uint16_t>(cfg.queues.size());
  for (uint16_t p : cfg.ports) {
    if (std::find(s.ports.begin(), s.ports.end(), p) == s.ports.end()) s.ports.push_back(p);
  }
  s.bypass = cfg.failOpen;
  return s;
}

namespace {

constexpr size_t kBatchBytes = 64 * 1024;
constexpr int32_t kManglePriority = kernel::kQueuePriority;

struct NlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
struct RuleFree {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
struct ChainFree {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};

// Builds an nfnetlink batch, sends it and waits for one acknowledgement per message.
class Batch {
 public:
  explicit Batch(uint32_t seq) : buf_(kBatchBytes), seq_(seq) {
    batch_ = mnl_nlmsg_batch_start(buf_.data(), buf_.size());
    nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch_)), seq_++);
    mnl_nlmsg_batch_next(batch_);
  }
  ~Batch() { mnl_nlmsg_batch_stop(batch_); }
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  char* current() { return static_cast<char*>(mnl_nlmsg_batch_current(batch_)); }
  uint32_t nextSeq() { return seq_++; }
  // After a message was written at current().
  void commit(bool tolerateEnoent = false) {
    tolerate_.push_back(tolerateEnoent);
    mnl_nlmsg_batch_next(batch_);
  }

  kernel::Status run(const std::string& what) {
    nftnl_batch_end(current(), seq_++);
    mnl_nlmsg_batch_next(batch_);
    std::unique_ptr<mnl_socket, NlCloser> nl(mnl_socket_open(NETLINK_NETFILTER));
    if (!nl) return kernel::Status::error(errno, what);
    if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
      return kernel::Status::error(errno, what);
    }
    // Every message asks for an acknowledgement; should one never come, do not wait forever.
    timeval tv{2, 0};
    (void)setsockopt(mnl_socket_get_fd(nl.get()), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (mnl_socket_sendto(nl.get(), mnl_nlmsg_batch_head(batch_),
                          mnl_nlmsg_batch_size(batch_)) < 0) {
      return kernel::Status::error(errno, what);
    }
    // Message i of the batch has sequence number first_ + i; each gets an acknowledgement.
    size_t acked = 0;
    std::vector<char> rx(16384);
    kernel::Status result;
    while (acked < tolerate_.size()) {
      const ssize_t n = mnl_socket_recvfrom(nl.get(), rx.data(), rx.size());
      if (n < 0) return result.ok() ? kernel::Status::error(errno, what) : result;
      int len = static_cast<int>(n);
      for (auto* nlh = reinterpret_cast<nlmsghdr*>(rx.data()); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        if (nlh->nlmsg_type != NLMSG_ERROR) continue;
        const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        ++acked;
        if (err->error == 0) continue;
        const size_t index = nlh->nlmsg_seq - first_;
        const bool ok = -err->error == ENOENT && index < tolerate_.size() && tolerate_[index];
        if (!ok && result.ok()) result = kernel::Status::error(-err->error, what);
      }
    }
    return result;
  }

  void setFirst(uint32_t seq) { first_ = seq; }

 private:
  std::vector<char> buf_;
  mnl_nlmsg_batch* batch_ = nullptr;
  uint32_t seq_;
  uint32_t first_ = 0;
  std::vector<bool> tolerate_;
};

void addExpr(nftnl_rule* r, nftnl_expr* e) { nftnl_rule_add_expr(r, e); }

nftnl_expr* metaL4proto() {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
  return e;
}

nftnl_expr* cmpEq(const void* data, uint32_t len) {
  nftnl_expr* e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  return e;
}

nftnl_expr* tcpPort(uint32_t offset) {
  nftnl_expr* e = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
  return e;
}

// xt NFQUEUE revision 3 through nft_compat. libnftnl takes ownership of the info buffer.
nftnl_expr* nfqueueTarget(const RuleSpec& spec) {
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
nftnl_expr* nftQueue(const RuleSpec& spec) {
  nftnl_expr* e = nftnl_expr_alloc("queue");
  nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, spec.firstQueue);
  nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, spec.queueCount);
  nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, spec.bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
  return e;
}

// Where each form lives: one inet table, or one table per family for nft_compat (xtables
// targets are registered per family).
constexpr uint16_t kNftFamilies[] = {NFPROTO_INET};
constexpr uint16_t kCompatFamilies[] = {NFPROTO_IPV4, NFPROTO_IPV6};
constexpr uint16_t kAllFamilies[] = {NFPROTO_INET, NFPROTO_IPV4, NFPROTO_IPV6};

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

void addDeleteTable(Batch& b, uint16_t family) {
  std::unique_ptr<nftnl_table, TableFree> t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, QueueRules::kTable);
  nlmsghdr* nlh =
      nftnl_table_nlmsg_build_hdr(b.current(), NFT_MSG_DELTABLE, family, NLM_F_ACK, b.nextSeq());
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  b.commit(true);
}

uint32_t firstSeq() { return static_cast<uint32_t>(time(nullptr)) & 0x7fffffff; }

}  // namespace

kernel::Status QueueRules::remove() {
  // One batch per family: a batch is all or nothing, and any of the tables may be absent (the
  // other form's tables are removed too: a stale one from a run on another kernel or version).
  kernel::Status result;
  for (uint16_t family : kAllFamilies) {
    const uint32_t seq = firstSeq();
    Batch b(seq);
    b.setFirst(seq + 1);
    addDeleteTable(b, family);
    kernel::Status s = b.run(fmt::format("nft: delete table {} {}", familyName(family), kTable));
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

kernel::Status QueueRules::install() {
  if (kernel::Status s = remove(); !s.ok()) return s;
  const uint32_t seq = firstSeq();
  Batch b(seq);
  b.setFirst(seq + 1);
  const bool nft = form_ == kernel::QueueForm::Nft;
  for (uint16_t family :
       nft ? std::span<const uint16_t>(kNftFamilies) : std::span<const uint16_t>(kCompatFamilies)) {
    std::unique_ptr<nftnl_table, TableFree> t(nftnl_table_alloc());
    nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, kTable);
    nlmsghdr* nlh = nftnl_table_nlmsg_build_hdr(b.current(), NFT_MSG_NEWTABLE, family,
                                                NLM_F_CREATE | NLM_F_ACK, b.nextSeq());
    nftnl_table_nlmsg_build_payload(nlh, t.get());
    b.commit();

    std::unique_ptr<nftnl_chain, ChainFree> c(nftnl_chain_alloc());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, kTable);
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, "forward");
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, NF_INET_FORWARD);
    nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, kManglePriority);
    nlh = nftnl_chain_nlmsg_build_hdr(b.current(), NFT_MSG_NEWCHAIN, family,
                                      NLM_F_CREATE | NLM_F_ACK, b.nextSeq());
    nftnl_chain_nlmsg_build_payload(nlh, c.get());
    b.commit();

    for (uint16_t port : spec_.ports) {
      for (uint32_t offset : {2u, 0u}) {  // tcp dport, tcp sport
        std::unique_ptr<nftnl_rule, RuleFree> r(nftnl_rule_alloc());
        nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, kTable);
        nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, "forward");
        const uint8_t tcp = IPPROTO_TCP;
        const uint16_t portBe = htons(port);
        addExpr(r.get(), metaL4proto());
        addExpr(r.get(), cmpEq(&tcp, sizeof tcp));
        addExpr(r.get(), tcpPort(offset));
        addExpr(r.get(), cmpEq(&portBe, sizeof portBe));
        addExpr(r.get(), nft ? nftQueue(spec_) : nfqueueTarget(spec_));
        nlh = nftnl_rule_nlmsg_build_hdr(b.current(), NFT_MSG_NEWRULE, family,
                                         NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, b.nextSeq());
        nftnl_rule_nlmsg_build_payload(nlh, r.get());
        b.commit();
      }
    }
  }
  return b.run(nft ? "nft: add queue rules" : "nft: add NFQUEUE rules");
}

std::string QueueRules::describe() const {
  return form_ == kernel::QueueForm::Nft ? fmt::format("table inet {}", kTable)
                                         : fmt::format("tables ip/ip6 {}", kTable);
}

}  // namespace ftpalg::daemon
