#include "daemon/nft_transaction.h"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <memory>

#include "kernel/netlink.h"

namespace ftpalg::daemon {
namespace {

struct NlCloser {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};

}  // namespace

NftTransaction::NftTransaction(size_t bytes, uint32_t seq) : buf_(bytes), seq_(seq) {
  batch_ = mnl_nlmsg_batch_start(buf_.data(), buf_.size());
  nftnl_batch_begin(current(), seq_++);
  mnl_nlmsg_batch_next(batch_);
  first_ = seq_;
}

NftTransaction::~NftTransaction() { mnl_nlmsg_batch_stop(batch_); }

char* NftTransaction::current() { return static_cast<char*>(mnl_nlmsg_batch_current(batch_)); }

void NftTransaction::commit(bool tolerateEnoent) {
  tolerate_.push_back(tolerateEnoent);
  mnl_nlmsg_batch_next(batch_);
}

kernel::Status NftTransaction::run(const std::string& what) {
  nftnl_batch_end(current(), seq_++);
  mnl_nlmsg_batch_next(batch_);
  kernel::NetfilterSocket s;
  if (kernel::Status st = kernel::openNetfilterSocket(s, what.c_str(), what.c_str()); !st.ok()) {
    return st;
  }
  std::unique_ptr<mnl_socket, NlCloser> nl(s.nl);
  // Every message asks for an acknowledgement; should one never come, do not wait forever.
  timeval tv{2, 0};
  (void)setsockopt(mnl_socket_get_fd(nl.get()), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (mnl_socket_sendto(nl.get(), mnl_nlmsg_batch_head(batch_), mnl_nlmsg_batch_size(batch_)) < 0) {
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

void addDeleteTable(NftTransaction& b, const char* table, uint16_t family) {
  std::unique_ptr<nftnl_table, TableFree> t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, table);
  nlmsghdr* nlh =
      nftnl_table_nlmsg_build_hdr(b.current(), NFT_MSG_DELTABLE, family, NLM_F_ACK, b.nextSeq());
  nftnl_table_nlmsg_build_payload(nlh, t.get());
  b.commit(true);
}

nftnl_expr* cmpExpr(uint32_t op, const void* data, uint32_t len) {
  nftnl_expr* e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  return e;
}

nftnl_expr* metaL4protoExpr() {
  nftnl_expr* e = nftnl_expr_alloc("meta");
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
  return e;
}

nftnl_expr* tcpPortExpr(uint32_t offset) {
  nftnl_expr* e = nftnl_expr_alloc("payload");
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
  return e;
}

}  // namespace ftpalg::daemon
