#include "ftpalg/kernel/queue_socket.h"

// The kernel header first: it defines NFQA_SKB_CSUMNOTREADY, which the copy bundled with
// libnetfilter_queue 1.0.5 lacks (both use the same include guard).
#include <linux/netfilter/nfnetlink_queue.h>
// clang-format off
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
// clang-format on
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace ftpalg::kernel {
namespace {

// Largest packet the kernel hands over (NFQNL_COPY_PACKET range) plus netlink headers and the
// metadata attributes.
constexpr size_t kCopyRange = 0xffff;
constexpr size_t kRxBytes = kCopyRange + 8192;
// Verdict buffer: flushed when the next message might not fit. Kept below the default
// net.core.wmem_default so one sendmsg never exceeds the socket's send buffer.
constexpr size_t kTxBytes = 160 * 1024;
// Room one verdict message needs besides the replacement packet (nlmsghdr, nfgenmsg, verdict
// header attribute, payload attribute header, alignment).
constexpr size_t kVerdictOverhead = 64;

template <typename T>
const T* payloadAs(const nlattr* a) {
  return static_cast<const T*>(mnl_attr_get_payload(a));
}

}  // namespace

bool QueuedPacket::checksumNotReady() const { return (skbInfo & NFQA_SKB_CSUMNOTREADY) != 0; }

QueueSocket::QueueSocket(QueueConfig cfg) : cfg_(cfg), rx_(kRxBytes), tx_(kTxBytes) {}

QueueSocket::~QueueSocket() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
}

Status QueueSocket::configure(std::span<char> msg, const char* what) {
  auto* nlh = reinterpret_cast<nlmsghdr*>(msg.data());
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = ++seq_;
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return Status::error(errno, what);
  std::array<char, 8192> buf{};
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0) return Status::error(errno, what);
    const int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq_, portId_, nullptr, nullptr);
    if (r < 0) return Status::error(errno, what);
    if (r == MNL_CB_STOP) return {};
  }
}

Status QueueSocket::open() {
  nl_ = mnl_socket_open(NETLINK_NETFILTER);
  if (nl_ == nullptr) return Status::error(errno, "nfqueue: open netlink socket");
  if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    return Status::error(errno, "nfqueue: bind netlink socket");
  }
  portId_ = mnl_socket_get_portid(nl_);
  const int fd = mnl_socket_get_fd(nl_);

  // Large receive buffer: bursts wait in the socket instead of overflowing it. Best effort
  // (needs CAP_NET_ADMIN, which binding a queue needs anyway).
  int rcvbuf = static_cast<int>(cfg_.rcvBufBytes);
  (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  int sndbuf = static_cast<int>(2 * kTxBytes);
  (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(cfg_.receiveTimeoutMs / 1000);
  tv.tv_usec = static_cast<suseconds_t>((cfg_.receiveTimeoutMs % 1000) * 1000);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0) {
    return Status::error(errno, "nfqueue: SO_RCVTIMEO");
  }

  std::array<char, 1024> buf{};
  nlmsghdr* nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, cfg_.queueNum);
  nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
  if (Status s = configure(buf, "nfqueue: bind queue"); !s.ok()) {
    return Status::error(s.err(), "nfqueue: bind queue " + std::to_string(cfg_.queueNum));
  }

  buf.fill(0);
  nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, cfg_.queueNum);
  nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, static_cast<int>(kCopyRange));
  nfq_nlmsg_cfg_put_qmaxlen(nlh, cfg_.maxLen);
  // NFQA_CFG_F_GSO: the kernel queues large packets unsegmented and with the checksum possibly
  // not computed (NFQA_SKB_CSUMNOTREADY); we recompute it on every rewrite.
  uint32_t flags = NFQA_CFG_F_GSO;
  if (cfg_.failOpen) flags |= NFQA_CFG_F_FAIL_OPEN;
  if (cfg_.conntrack) flags |= NFQA_CFG_F_CONNTRACK;
  const uint32_t mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_CONNTRACK;
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
  if (Status s = configure(buf, "nfqueue: configure queue"); !s.ok()) {
    if (cfg_.conntrack && s.err() == EOPNOTSUPP) {
      return Status::error(s.err(),
                           "nfqueue: conntrack information on the queue (the kernel lacks the "
                           "NFQUEUE conntrack glue, CONFIG_NETFILTER_NETLINK_GLUE_CT)");
    }
    return s;
  }

  // No ENOBUFS on this socket. With ENOBUFS reporting on, the kernel marks the socket congested
  // at the first overrun and then refuses every message until the receive queue is empty
  // (netlink_overrun / netlink_rcv_wake), which turns a short overrun into a long window of
  // drops (fail-closed) or of uninspected packets (fail-open). Without it only the messages
  // that do not fit are lost, and each is still counted in sk_drops (socketDrops()) and, when
  // fail-closed, in the queue's user_dropped counter. receive() still handles ENOBUFS.
  int one = 1;
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
  return {};
}

uint64_t QueueSocket::socketDrops() const {
  if (nl_ == nullptr) return 0;
  std::array<uint32_t, SK_MEMINFO_VARS> mem{};
  socklen_t len = sizeof mem;
  if (getsockopt(mnl_socket_get_fd(nl_), SOL_SOCKET, SO_MEMINFO, mem.data(), &len) < 0 ||
      len < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
    return 0;
  }
  return mem[SK_MEMINFO_DROPS];
}

Status QueueSocket::receive(bool dontWait, PacketHandler& handler, ReceiveResult& result) {
  const int fd = mnl_socket_get_fd(nl_);
  const ssize_t n = recv(fd, rx_.data(), rx_.size(), dontWait ? MSG_DONTWAIT : 0);
  if (n < 0) {
    switch (errno) {
      case EAGAIN:
        result = ReceiveResult::Empty;
        return {};
      case EINTR:
        result = ReceiveResult::Interrupted;
        return {};
      case ENOBUFS:
        ++stats_.overruns;
        result = ReceiveResult::Overrun;
        return {};
      default:
        return Status::error(errno, "nfqueue: receive");
    }
  }
  result = ReceiveResult::Packets;
  ++stats_.datagrams;
  int len = static_cast<int>(n);
  auto* nlh = reinterpret_cast<nlmsghdr*>(rx_.data());
  std::array<nlattr*, NFQA_MAX + 1> attr{};
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    if (nlh->nlmsg_type == NLMSG_ERROR) {
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0) ++stats_.verdictErrors;
      continue;
    }
    if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)) continue;
    attr.fill(nullptr);
    if (nfq_nlmsg_parse(nlh, attr.data()) < 0 || attr[NFQA_PACKET_HDR] == nullptr ||
        attr[NFQA_PAYLOAD] == nullptr ||
        mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(nfqnl_msg_packet_hdr)) {
      ++stats_.malformed;
      continue;
    }
    const auto* ph = payloadAs<nfqnl_msg_packet_hdr>(attr[NFQA_PACKET_HDR]);
    QueuedPacket p;
    p.id = ntohl(ph->packet_id);
    p.hwProtocol = ntohs(ph->hw_protocol);
    p.hook = ph->hook;
    if (attr[NFQA_SKB_INFO] != nullptr) p.skbInfo = ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO]));
    p.payload = std::span<const uint8_t>(payloadAs<uint8_t>(attr[NFQA_PAYLOAD]),
                                         mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]));
    if (attr[NFQA_CT] != nullptr) {
      p.ct = std::span<const uint8_t>(payloadAs<uint8_t>(attr[NFQA_CT]),
                                      mnl_attr_get_payload_len(attr[NFQA_CT]));
    }
    ++stats_.packets;
    handler.onPacket(p);
  }
  return {};
}

Status QueueSocket::verdict(uint32_t id, NfVerdict v, std::span<const uint8_t> packet,
                            bool withCt) {
  const size_t need = kVerdictOverhead + packet.size();
  if (need > tx_.size()) return Status::error(EMSGSIZE, "nfqueue: verdict packet too large");
  if (txLen_ + need > tx_.size()) {
    if (Status s = flush(); !s.ok()) return s;
  }
  nlmsghdr* nlh = nfq_nlmsg_put(tx_.data() + txLen_, NFQNL_MSG_VERDICT, cfg_.queueNum);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), v == NfVerdict::Accept ? NF_ACCEPT : NF_DROP);
  if (!packet.empty()) {
    nfq_nlmsg_verdict_put_pkt(nlh, packet.data(), static_cast<uint32_t>(packet.size()));
  }
  if (withCt) {
    nlattr* nest = mnl_attr_nest_start(nlh, NFQA_CT);
    mnl_attr_nest_end(nlh, nest);
  }
  txLen_ += nlh->nlmsg_len;  // a multiple of 4: mnl_attr_put pads every attribute
  ++pending_;
  ++stats_.verdicts;
  return {};
}

Status QueueSocket::flush() {
  if (txLen_ == 0) return {};
  const int fd = mnl_socket_get_fd(nl_);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  ssize_t n;
  do {
    n = sendto(fd, tx_.data(), txLen_, 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel);
  } while (n < 0 && errno == EINTR);
  const size_t sent = txLen_;
  txLen_ = 0;
  pending_ = 0;
  ++stats_.sends;
  if (n < 0) return Status::error(errno, "nfqueue: send verdicts");
  if (static_cast<size_t>(n) != sent) return Status::error(EIO, "nfqueue: short verdict send");
  return {};
}

}  // namespace ftpalg::kernel
