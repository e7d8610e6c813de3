#include "kernel/netlink.h"

#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cerrno>

namespace ftpalg::kernel {
namespace {

// One receive datagram (MNL_SOCKET_BUFFER_SIZE is a run-time value); a dump fills several.
constexpr size_t kReceiveBytes = 32768;

}  // namespace

Status openNetfilterSocket(NetfilterSocket& out, const char* openWhat, const char* bindWhat) {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr) {
    return Status::error(errno, openWhat);
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(nl);
    return Status::error(err, bindWhat);
  }
  out.nl = nl;
  out.portId = mnl_socket_get_portid(nl);
  return {};
}

nlmsghdr* putNfnlHeader(char* buf, uint8_t subsys, uint8_t cmd, uint16_t flags, int family,
                        uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = static_cast<uint16_t>((subsys << 8) | cmd);
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = static_cast<uint8_t>(family);
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

Status transact(const NetfilterSocket& s, const nlmsghdr* nlh, mnl_cb_t cb, void* data,
                const char* what) {
  if (mnl_socket_sendto(s.nl, nlh, nlh->nlmsg_len) < 0) {
    return Status::error(errno, what);
  }
  std::array<char, kReceiveBytes> buf;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(s.nl, buf.data(), buf.size());
    if (n < 0) {
      return Status::error(errno, what);
    }
    const int rc =
        mnl_cb_run(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq, s.portId, cb, data);
    if (rc < 0) {
      return Status::error(errno, what);
    }
    if (rc == MNL_CB_STOP) {
      return {};
    }
  }
}

int collectNlAttr(const nlattr* attr, void* data) {
  auto* t = static_cast<NlAttrTable*>(data);
  const uint16_t type = mnl_attr_get_type(attr);
  if (type < t->tb.size()) {
    t->tb[type] = attr;
  }
  return MNL_CB_OK;
}

}  // namespace ftpalg::kernel
