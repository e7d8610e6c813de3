// NftWatch: NFNLGRP_NFTABLES membership and a non-blocking drain of its notifications.
#include "ftpalg/kernel/nft_watch.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>

#include "kernel/netlink.h"

namespace ftpalg::kernel {
namespace {

// Room for the burst of a `flush ruleset` of a large ruleset; an overflow only costs a check.
constexpr int kReceiveBufferBytes = 4 << 20;

// Attribute 1 names the table in every nf_tables object message (NFTA_TABLE_NAME,
// NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE).
static_assert(NFTA_TABLE_NAME == 1 && NFTA_CHAIN_TABLE == 1 && NFTA_RULE_TABLE == 1 &&
              NFTA_SET_TABLE == 1 && NFTA_SET_ELEM_LIST_TABLE == 1);

std::string_view tableOf(const nlmsghdr* nlh) {
  NlAttrTable t;
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), collectNlAttr, &t) < 0 || t.tb[1] == nullptr) {
    return {};
  }
  return mnl_attr_get_str(t.tb[1]);
}

}  // namespace

NftWatch::~NftWatch() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
}

Status NftWatch::open() {
  if (nl_ != nullptr) return {};
  NetfilterSocket s;
  if (Status st =
          openNetfilterSocket(s, "nft: open notification socket", "nft: bind notification socket");
      !st.ok()) {
    return st;
  }
  int group = NFNLGRP_NFTABLES;
  if (mnl_socket_setsockopt(s.nl, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
    const int err = errno;
    mnl_socket_close(s.nl);
    return Status::error(err, "nft: join the nf_tables notification group");
  }
  const int fd = mnl_socket_get_fd(s.nl);
  int bytes = kReceiveBufferBytes;
  // SO_RCVBUFFORCE with CAP_NET_ADMIN, else what rmem_max allows.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
  nl_ = s.nl;
  return {};
}

int NftWatch::fd() const { return nl_ == nullptr ? -1 : mnl_socket_get_fd(nl_); }

Status NftWatch::drain(NftChanges& out) {
  if (nl_ == nullptr) return Status::error(EBADF, "nft: notification socket not open");
  alignas(nlmsghdr) std::array<char, 65536> buf{};
  for (;;) {
    const ssize_t got = recv(mnl_socket_get_fd(nl_), buf.data(), buf.size(), MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        out.overrun = true;
        continue;
      }
      return Status::error(errno, "nft: read notifications");
    }
    auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int left = static_cast<int>(got);
    for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
      if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES) continue;
      const uint16_t msg = nlh->nlmsg_type & 0xff;
      const bool element = msg == NFT_MSG_DELSETELEM;
      const bool object = msg == NFT_MSG_DELTABLE || msg == NFT_MSG_DELCHAIN ||
                          msg == NFT_MSG_DELRULE || msg == NFT_MSG_DELSET;
      if (!element && !object) continue;
      const std::string_view table = tableOf(nlh);
      if (std::find(tables_.begin(), tables_.end(), table) == tables_.end()) continue;
      (element ? out.elements : out.deletions) += 1;
      out.portId = nlh->nlmsg_pid;
    }
  }
}

}  // namespace ftpalg::kernel
