#include "ftpalg/kernel/nft_queue_probe.h"

#include <fmt/format.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <ctime>
#include <memory>
#include <string>

#include "kernel/netlink.h"
#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/nftnl_ptr.h"

namespace ftpalg::kernel {
namespace {

// The kernel handles a batch inside sendmsg(); this only guards a lost reply.
constexpr int kAckTimeoutMs = 1000;
constexpr const char* kChain = "probe";

struct SocketClose {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};

// Index of the NEWRULE message among the batch's data messages.
constexpr uint32_t kRuleMessage = 2;

// add table, add chain, add rule { queue num 0 }, delete table. False if it does not fit.
bool buildProbe(nft::NftBatch& b, const std::string& table) {
  nft::TablePtr t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table.c_str());
  nlmsghdr* nlh = b.begin(NFT_MSG_NEWTABLE, NFPROTO_INET, NLM_F_CREATE, "nft: add probe table");
  if (nlh == nullptr) return false;
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  b.end();

  nft::ChainPtr c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, kChain);
  nlh = b.begin(NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE, "nft: add probe chain");
  if (nlh == nullptr) return false;
  nftnl_chain_nlmsg_build_payload(nlh, c.get());
  b.end();

  nft::RulePtr r(nftnl_rule_alloc());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, kChain);
  nftnl_expr* q = nftnl_expr_alloc("queue");
  nftnl_expr_set_u16(q, NFTNL_EXPR_QUEUE_NUM, 0);
  nftnl_expr_set_u16(q, NFTNL_EXPR_QUEUE_TOTAL, 1);
  nftnl_expr_set_u16(q, NFTNL_EXPR_QUEUE_FLAGS, NFT_QUEUE_FLAG_BYPASS);
  nftnl_rule_add_expr(r.get(), q);  // the rule owns it
  nlh = b.begin(NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_CREATE | NLM_F_APPEND, "nft: add probe rule");
  if (nlh == nullptr) return false;
  nftnl_rule_nlmsg_build_payload(nlh, r.get());
  b.end();

  nft::TablePtr d(nftnl_table_alloc());
  nftnl_table_set_str(d.get(), NFTNL_TABLE_NAME, table.c_str());
  nlh = b.begin(NFT_MSG_DELTABLE, NFPROTO_INET, 0, "nft: delete probe table");
  if (nlh == nullptr) return false;
  nftnl_table_nlmsg_build_payload(nlh, d.get());
  b.end();
  return b.finish();
}

}  // namespace

NftQueueProbe probeNftQueue() {
  const std::string table = fmt::format("ftpalg_probe_{}", getpid());
  alignas(nlmsghdr) std::array<char, 8192> out{};
  const auto seq = static_cast<uint32_t>(time(nullptr));
  nft::NftBatch batch(out, seq);
  if (!buildProbe(batch, table)) return {NftQueueSupport::Unknown, EMSGSIZE};

  NetfilterSocket s;
  if (Status st = openNetfilterSocket(s, "nft: open netlink socket", "nft: bind netlink socket");
      !st.ok()) {
    return {NftQueueSupport::Unknown, st.err()};
  }
  std::unique_ptr<mnl_socket, SocketClose> nl(s.nl);
  int one = 1;
  (void)mnl_socket_setsockopt(nl.get(), NETLINK_CAP_ACK, &one, sizeof one);
  const std::span<const char> bytes = batch.bytes();
  if (mnl_socket_sendto(nl.get(), bytes.data(), bytes.size()) < 0) {
    return {NftQueueSupport::Unknown, errno};
  }

  // One acknowledgement per data message, unless nfnetlink refuses the whole batch (EPERM
  // without CAP_NET_ADMIN), which it acknowledges under BATCH_BEGIN's sequence number. After an
  // error the kernel aborts the transaction and may leave the rest unacknowledged.
  const uint32_t first = batch.firstSeq();
  const size_t expected = batch.messageCount();
  const uint32_t portId = s.portId;
  int ruleError = 0, otherError = 0;
  size_t acked = 0;
  alignas(nlmsghdr) std::array<char, 8192> in{};
  pollfd pfd{mnl_socket_get_fd(nl.get()), POLLIN, 0};
  while (acked < expected) {
    const bool failed = ruleError != 0 || otherError != 0;
    const int ready = poll(&pfd, 1, failed ? 0 : kAckTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      if (failed) break;
      return {NftQueueSupport::Unknown, ready == 0 ? ETIMEDOUT : errno};
    }
    const ssize_t got = mnl_socket_recvfrom(nl.get(), in.data(), in.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return {NftQueueSupport::Unknown, errno};
    }
    int left = static_cast<int>(got);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(in.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_pid != portId || nlh->nlmsg_type != NLMSG_ERROR) continue;
      const int code = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh))->error;
      if (nlh->nlmsg_seq == seq) {  // the batch as a whole
        if (code != 0) return {NftQueueSupport::Unknown, code};
        continue;
      }
      if (nlh->nlmsg_seq < first || nlh->nlmsg_seq - first >= expected) continue;
      ++acked;
      if (code == 0) continue;
      if (nlh->nlmsg_seq - first == kRuleMessage) {
        if (ruleError == 0) ruleError = code;
      } else if (otherError == 0) {
        otherError = code;
      }
    }
  }
  if (ruleError == ENOENT || ruleError == EOPNOTSUPP) return {NftQueueSupport::Absent, ruleError};
  if (ruleError != 0) return {NftQueueSupport::Unknown, ruleError};
  if (otherError != 0) return {NftQueueSupport::Unknown, otherError};
  return {NftQueueSupport::Present, 0};
}

}  // namespace ftpalg::kernel
