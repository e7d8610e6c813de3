// LocalAddresses over libmnl: one RTM_GETADDR dump on its own socket, notifications on another
// (a dump's replies and notifications never interleave on one socket that way).
#include "ftpalg/kernel/local_addresses.h"

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "kernel/netlink.h"

namespace ftpalg::kernel {
namespace {

bool usable(const core::IpAddr& a) {
  if (a.family == core::Family::V4) {
    return a.bytes[0] != 127 && a.bytes[0] != 0 && !(a.bytes[0] == 169 && a.bytes[1] == 254) &&
           a.bytes[0] < 224;
  }
  const bool loopback =
      a.bytes == std::array<uint8_t, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return !loopback && a.bytes[0] != 0xff && !(a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80);
}

int onAddress(const nlmsghdr* nlh, void* data) {
  (void)addAddressMessage(nlh, *static_cast<LocalAddressList*>(data));
  return MNL_CB_OK;
}

}  // namespace

bool addAddressMessage(const nlmsghdr* nlh, LocalAddressList& list) {
  if (nlh->nlmsg_type != RTM_NEWADDR) return false;
  const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
  NlAttrTable t;
  if (mnl_attr_parse(nlh, sizeof(*ifa), collectNlAttr, &t) < MNL_CB_OK) return false;
  // IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS the peer's on point-to-point).
  const nlattr* at = ifa->ifa_family == AF_INET && t.tb[IFA_LOCAL] != nullptr ? t.tb[IFA_LOCAL]
                                                                              : t.tb[IFA_ADDRESS];
  if (at == nullptr) return false;
  core::IpAddr a;
  const uint16_t len = mnl_attr_get_payload_len(at);
  if (ifa->ifa_family == AF_INET && len == 4) {
    a.family = core::Family::V4;
  } else if (ifa->ifa_family == AF_INET6 && len == 16) {
    a.family = core::Family::V6;
  } else {
    return false;
  }
  std::memcpy(a.bytes.data(), mnl_attr_get_payload(at), len);
  if (!usable(a)) return false;
  for (size_t i = 0; i < list.count; ++i) {
    if (list.addrs[i] == a) return true;
  }
  if (list.count == list.addrs.size()) {
    ++list.skipped;
    return false;
  }
  list.addrs[list.count++] = a;
  return true;
}

LocalAddresses::~LocalAddresses() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
}

Status LocalAddresses::open() {
  if (nl_ == nullptr) {
    nl_ = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (nl_ == nullptr) return Status::error(errno, "rtnetlink: socket");
    const unsigned groups = (1u << (RTNLGRP_IPV4_IFADDR - 1)) | (1u << (RTNLGRP_IPV6_IFADDR - 1));
    if (mnl_socket_bind(nl_, groups, MNL_SOCKET_AUTOPID) < 0) {
      const int err = errno;
      mnl_socket_close(nl_);
      nl_ = nullptr;
      return Status::error(err, "rtnetlink: bind to the address groups");
    }
  }
  Status s = dump();
  changed_ = false;  // the caller reads list() after open()
  return s;
}

Status LocalAddresses::dump() {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == nullptr) return Status::error(errno, "rtnetlink: socket");
  Status st;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    st = Status::error(errno, "rtnetlink: bind");
  }
  std::vector<char> buf(static_cast<size_t>(MNL_SOCKET_BUFFER_SIZE));
  const auto seq = static_cast<uint32_t>(time(nullptr));
  if (st.ok()) {
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = RTM_GETADDR;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    nlh->nlmsg_seq = seq;
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = AF_UNSPEC;
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
      st = Status::error(errno, "rtnetlink: send");
  }
  LocalAddressList fresh;
  const uint32_t port = mnl_socket_get_portid(nl);
  while (st.ok()) {
    const ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) {
      st = Status::error(errno, "rtnetlink: receive the address dump");
      break;
    }
    const int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, port, onAddress, &fresh);
    if (r == MNL_CB_STOP) break;
    if (r < 0) st = Status::error(errno, "rtnetlink: address dump");
  }
  mnl_socket_close(nl);
  if (!st.ok()) return st;
  bool same = fresh.count == list_.count;
  for (size_t i = 0; same && i < fresh.count; ++i) same = fresh.addrs[i] == list_.addrs[i];
  changed_ = changed_ || !same;
  list_ = fresh;
  return {};
}

bool LocalAddresses::refresh() {
  if (nl_ == nullptr) return false;
  bool notified = false;
  std::array<char, 8192> buf{};
  while (mnl_socket_recvfrom(nl_, buf.data(), buf.size()) > 0) notified = true;
  // ENOBUFS (notifications lost) also means "look again".
  if (errno == ENOBUFS) notified = true;
  if (notified) (void)dump();
  const bool changed = changed_;
  changed_ = false;
  return changed;
}

}  // namespace ftpalg::kernel
