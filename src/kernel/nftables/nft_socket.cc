#include "kernel/nftables/nft_socket.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>
#include <string>

#include "kernel/netlink.h"

namespace ftpalg::kernel::nft {
namespace {

// Upper bound on waiting for acknowledgements. The kernel processes a batch inside sendmsg(),
// so every acknowledgement is queued before sendto() returns; this only guards a lost reply.
constexpr int kAckTimeoutMs = 1000;

// The label of the message with sequence number `seq` ("nft: add element to pin4").
std::string context(const NftBatch& batch, uint32_t seq) {
  const std::string_view l = batch.label(seq);
  return std::string(l.empty() ? std::string_view("nft: batch") : l);
}

}  // namespace

NftSocket::~NftSocket() {
  if (nl_ != nullptr) {
    mnl_socket_close(nl_);
  }
}

Status NftSocket::open() {
  if (nl_ != nullptr) {
    return {};
  }
  NetfilterSocket s;
  if (Status st = openNetfilterSocket(s, "nft: open netlink socket", "nft: bind netlink socket");
      !st.ok()) {
    return st;
  }
  nl_ = s.nl;
  portId_ = s.portId;
  // Acknowledgements without a copy of the request: small replies, no receive overrun.
  int one = 1;
  (void)mnl_socket_setsockopt(nl_, NETLINK_CAP_ACK, &one, sizeof(one));
  seq_ = static_cast<uint32_t>(time(nullptr));
  return {};
}

uint32_t NftSocket::reserveSeq(size_t messages) {
  const uint32_t first = seq_;
  seq_ += static_cast<uint32_t>(messages + 2);
  return first;
}

Status NftSocket::commit(const NftBatch& batch, int tolerated) {
  if (nl_ == nullptr) {
    return Status::error(EBADF, "nft: socket not open");
  }
  if (!batch.ok()) {
    return Status::error(EMSGSIZE, "nft: batch too large");
  }
  const std::span<const char> out = batch.bytes();
  if (mnl_socket_sendto(nl_, out.data(), out.size()) < 0) {
    return Status::error(errno, "nft: send batch");
  }

  const uint32_t first = batch.firstSeq();
  const size_t expected = batch.messageCount();
  size_t acked = 0;
  Status firstError;
  bool failed = false;
  alignas(nlmsghdr) std::array<char, 8192> buf{};
  pollfd pfd{mnl_socket_get_fd(nl_), POLLIN, 0};
  while (acked < expected) {
    // After an error the kernel may abort the batch without acknowledging the rest: only
    // drain what is already queued.
    const int ready = poll(&pfd, 1, failed ? 0 : kAckTimeoutMs);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::error(errno, "nft: poll for acknowledgement");
    }
    if (ready == 0) {
      if (failed) {
        break;
      }
      return Status::error(ETIMEDOUT, context(batch, first + static_cast<uint32_t>(acked)));
    }
    const ssize_t got = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return Status::error(errno, "nft: receive acknowledgement");
    }
    auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int left = static_cast<int>(got);
    for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_pid != portId_ || nlh->nlmsg_seq < first ||
          nlh->nlmsg_seq - first >= expected) {
        continue;  // a reply to an earlier batch we gave up on
      }
      if (nlh->nlmsg_type != NLMSG_ERROR) {
        continue;
      }
      ++acked;
      const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      const int code = -err->error;
      if (code != 0 && code != tolerated && !failed) {
        failed = true;
        firstError = Status::error(code, context(batch, nlh->nlmsg_seq));
      }
    }
  }
  if (failed) {
    return firstError;
  }
  return {};
}

Status NftSocket::commitEach(const NftBatch& batch, std::span<int> codes) {
  if (nl_ == nullptr) {
    return Status::error(EBADF, "nft: socket not open");
  }
  const size_t expected = batch.messageCount();
  if (!batch.ok() || codes.size() < expected) {
    return Status::error(EMSGSIZE, "nft: batch too large");
  }
  std::fill_n(codes.begin(), expected, -1);
  const std::span<const char> out = batch.bytes();
  if (mnl_socket_sendto(nl_, out.data(), out.size()) < 0) {
    return Status::error(errno, "nft: send batch");
  }
  const uint32_t first = batch.firstSeq();
  size_t acked = 0;
  bool failed = false;
  Status whole;  // an error on the BEGIN message: the transaction failed as a whole
  alignas(nlmsghdr) std::array<char, 8192> buf{};
  pollfd pfd{mnl_socket_get_fd(nl_), POLLIN, 0};
  while (acked < expected) {
    // Every answer is queued before sendto() returns; after an error only drain what is there.
    const int ready = poll(&pfd, 1, failed ? 0 : kAckTimeoutMs);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Status::error(errno, "nft: poll for acknowledgement");
    }
    if (ready == 0) {
      if (failed) break;
      return Status::error(ETIMEDOUT, context(batch, first + static_cast<uint32_t>(acked)));
    }
    const ssize_t got = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status::error(errno, "nft: receive acknowledgement");
    }
    auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
    int left = static_cast<int>(got);
    for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
      if (nlh->nlmsg_pid != portId_ || nlh->nlmsg_type != NLMSG_ERROR) continue;
      const int code = -static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh))->error;
      if (nlh->nlmsg_seq == first - 1) {
        if (code != 0 && whole.ok()) whole = Status::error(code, "nft: commit batch");
        failed = failed || code != 0;
        continue;
      }
      if (nlh->nlmsg_seq < first || nlh->nlmsg_seq - first >= expected) continue;
      int& slot = codes[nlh->nlmsg_seq - first];
      if (slot == -1) ++acked;
      slot = code;
      failed = failed || code != 0;
    }
  }
  return whole;
}

}  // namespace ftpalg::kernel::nft
