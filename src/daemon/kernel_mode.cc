#include "daemon/kernel_mode.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace ftpalg::daemon {
namespace {

// Values of <linux/netfilter/nfnetlink_cthelper.h>, which not every distribution installs.
constexpr uint16_t kSubsysCthelper = 9;
constexpr uint16_t kMsgCthelperGet = 1;

// 0 when nfnetlink_cthelper answers a dump request, else the errno it (or nfnetlink) gave.
int probeCthelper() {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == nullptr) return errno;
  int result = 0;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    result = errno;
  } else {
    std::array<char, 8192> buf{};
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = (kSubsysCthelper << 8) | kMsgCthelperGet;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP | NLM_F_ACK;
    const auto seq = static_cast<uint32_t>(time(nullptr));
    nlh->nlmsg_seq = seq;
    auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfg->nfgen_family = AF_UNSPEC;
    nfg->version = NFNETLINK_V0;
    nfg->res_id = 0;
    const unsigned portid = mnl_socket_get_portid(nl);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
      result = errno;
    } else {
      for (;;) {
        const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
        if (n < 0) {
          result = errno;
          break;
        }
        const int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, nullptr, nullptr);
        if (r < 0) {
          result = errno;
          break;
        }
        if (r == MNL_CB_STOP) break;
      }
    }
  }
  mnl_socket_close(nl);
  return result;
}

}  // namespace

KernelModeChoice chooseKernelMode(KernelMode requested) {
  if (requested == KernelMode::Pinhole) return {KernelMode::Pinhole, "pinhole (requested)"};
  const int err = probeCthelper();
  if (err != 0) {
    return {KernelMode::Pinhole,
            std::string("pinhole: nfnetlink_cthelper is not available (") + std::strerror(err) +
                ")"};
  }
  return {KernelMode::Pinhole,
          "pinhole: nfnetlink_cthelper is present, but cthelper mode is not implemented yet"};
}

}  // namespace ftpalg::daemon
