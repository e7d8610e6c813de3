#include "daemon/queue_rules.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/xt_NFQUEUE.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <span>

#include "daemon/nft_transaction.h"

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

struct RuleFree {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};
struct ChainFree {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};

void addExpr(nftnl_rule* r, nftnl_expr* e) { nftnl_rule_add_expr(r, e); }

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

uint32_t firstSeq() { return static_cast<uint32_t>(time(nullptr)) & 0x7fffffff; }

}  // namespace

kernel::Status QueueRules::remove() {
  // One batch per family: a batch is all or nothing, and any of the tables may be absent (the
  // other form's tables are removed too: a stale one from a run on another kernel or version).
  kernel::Status result;
  for (uint16_t family : kAllFamilies) {
    NftTransaction b(kBatchBytes, firstSeq());
    addDeleteTable(b, kTable, family);
    kernel::Status s = b.run(fmt::format("nft: delete table {} {}", familyName(family), kTable));
    if (!s.ok() && result.ok()) result = s;
  }
  return result;
}

kernel::Status QueueRules::install() {
  if (kernel::Status s = remove(); !s.ok()) return s;
  NftTransaction b(kBatchBytes, firstSeq());
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
        addExpr(r.get(), metaL4protoExpr());
        addExpr(r.get(), cmpExpr(NFT_CMP_EQ, &tcp, sizeof tcp));
        addExpr(r.get(), tcpPortExpr(offset));
        addExpr(r.get(), cmpExpr(NFT_CMP_EQ, &portBe, sizeof portBe));
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
