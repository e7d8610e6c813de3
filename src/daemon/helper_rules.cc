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
#include <sys/time.h>

#include <cerrno>
#include <ctime>
#include <memory>
#include <vector>

namespace ftpalg::daemon {
namespace {

constexpr size_t kBatchBytes = 32 * 1024;
constexpr const char* kChain = "pre";

struct NlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

// One nf_tables transaction: BEGIN, messages, END; waits for every message's acknowledgement.
class Batch {
 public:
  explicit Batch(uint32_t seq) : buf_(kBatchBytes), seq_(seq) {
    batch_ = mnl_nlmsg_batch_start(buf_.data(), buf_.size());
    nftnl_batch_begin(current(), seq_++);
    mnl_nlmsg_batch_next(batch_);
    first_ = seq_;
  }
  ~Batch() { mnl_nlmsg_batch_stop(batch_); }
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  char* current() { return static_cast<char*>(mnl_nlmsg_batch_current(batch_)); }
  uint32_t nextSeq() { return seq_++; }
  void commit(bool tolerateEnoent = false) {
    tolerate_.push_back(tolerateEnoent);
    mnl_nlmsg_batch_next(batch_);
  }

  kernel::Status run(const char* what) {
    nftnl_batch_end(current(), seq_++);
    mnl_nlmsg_batch_next(batch_);
    std::unique_ptr<mnl_socket, NlCloser> nl(mnl_socket_open(NETLINK_NETFILTER));
    if (!nl) return kernel::Status::error(errno, what);
    if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
      return kernel::Status::error(errno, what);
    }
    timeval tv{2, 0};
    (void)setsockopt(mnl_socket_get_fd(nl.get()), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (mnl_socket_sendto(nl.get(), mnl_nlmsg_batch_head(batch_), mnl_nlmsg_batch_size(batch_)) <
        0) {
      return kernel::Status::error(errno, what);
    }
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

 private:
  std::vector<char> buf_;
  mnl_nlmsg_batch* batch_ = nullptr;
  uint32_t seq_;
  uint32_t first_ = 0;
  std::vector<bool> tolerate_;
};

void deleteTable(Batch& b) {
  nftnl_table* t = nftnl_table_alloc();
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, kHelperTable);
  nlmsghdr* nlh =
      nftnl_table_nlmsg_build_hdr(b.current(), NFT_MSG_DELTABLE, NFPROTO_INET, NLM_F_ACK,
                                  b.nextSeq());
  nftnl_table_nlmsg_build_payload(nlh, t);
  nftnl_table_free(t);
  b.commit(true);
}

nftnl_expr* cmp(uint32_t op, const void* data, uint32_t len) {
  nftnl_expr* e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  return e;
}

// tcp dport PORT ct state new ct helper set "ftpalg-ftp"
void addRule(Batch& b, uint16_t port) {
  nftnl_rule* r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, kHelperTable);
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, kChain);
  nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);

  nftnl_expr* meta = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(meta, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
  nftnl_expr_set_u32(meta, NFTNL_EXPR_META_DREG, NFT_REG_1);
  nftnl_rule_add_expr(r, meta);
  const uint8_t tcp = IPPROTO_TCP;
  nftnl_rule_add_expr(r, cmp(NFT_CMP_EQ, &tcp, sizeof tcp));

  nftnl_expr* pl = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(pl, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(pl, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
  nftnl_expr_set_u32(pl, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
  nftnl_expr_set_u32(pl, NFTNL_EXPR_PAYLOAD_LEN, 2);
  nftnl_rule_add_expr(r, pl);
  const uint16_t dport = htons(port);
  nftnl_rule_add_expr(r, cmp(NFT_CMP_EQ, &dport, sizeof dport));

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
  nftnl_rule_add_expr(r, cmp(NFT_CMP_NEQ, &zero, sizeof zero));

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
  Batch b(batchSeq() + 16);

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
  Batch b(batchSeq());
  deleteTable(b);
  return b.run("nft: delete table inet ftpalg_helper");
}

}  // namespace ftpalg::daemon
