#include "kernel/nftables/nft_batch.h"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

namespace ftpalg::kernel::nft {

NftBatch::NftBatch(std::span<char> buf, uint32_t seq) : buf_(buf), seq_(seq) {
  batch_ = mnl_nlmsg_batch_start(buf_.data(), buf_.size() / 2);
  if (batch_ == nullptr) {
    ok_ = false;
    return;
  }
  nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch_)), seq_);
  ok_ = mnl_nlmsg_batch_next(batch_);
}

NftBatch::~NftBatch() {
  if (batch_ != nullptr) {
    mnl_nlmsg_batch_stop(batch_);
  }
}

nlmsghdr* NftBatch::begin(uint16_t type, uint16_t family, uint16_t flags, std::string_view label) {
  if (!ok_ || open_ || finished_ || count_ == kMaxMessages) {
    ok_ = false;
    return nullptr;
  }
  labels_[count_] = label;
  ++count_;
  open_ = true;
  const auto seq = static_cast<uint32_t>(seq_ + count_);
  return nftnl_nlmsg_build_hdr(static_cast<char*>(mnl_nlmsg_batch_current(batch_)), type, family,
                               static_cast<uint16_t>(flags | NLM_F_ACK), seq);
}

bool NftBatch::end() {
  if (!open_) {
    ok_ = false;
    return false;
  }
  open_ = false;
  if (!mnl_nlmsg_batch_next(batch_)) {
    ok_ = false;
  }
  return ok_;
}

bool NftBatch::finish() {
  if (!ok_ || open_ || finished_) {
    ok_ = false;
    return false;
  }
  const auto seq = static_cast<uint32_t>(seq_ + count_ + 1);
  nftnl_batch_end(static_cast<char*>(mnl_nlmsg_batch_current(batch_)), seq);
  ok_ = mnl_nlmsg_batch_next(batch_);
  finished_ = true;
  return ok_;
}

std::span<const char> NftBatch::bytes() const {
  if (batch_ == nullptr) {
    return {};
  }
  return {static_cast<const char*>(mnl_nlmsg_batch_head(batch_)), mnl_nlmsg_batch_size(batch_)};
}

std::string_view NftBatch::label(uint32_t seq) const {
  if (seq < firstSeq() || seq - firstSeq() >= count_) {
    return {};
  }
  return labels_[seq - firstSeq()];
}

}  // namespace ftpalg::kernel::nft
