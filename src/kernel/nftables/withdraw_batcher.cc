#include "kernel/nftables/withdraw_batcher.h"

#include <algorithm>
#include <cerrno>
#include <string>

namespace ftpalg::kernel::nft {
namespace {

// A batch of kMaxMessages element messages (about 100 bytes each) fits in half of it.
constexpr size_t kBatchBytes = 48 * 1024;

// Gone already: the data connection used the element, or it timed out, or the table is gone.
bool gone(int code) { return code == ENOENT; }

}  // namespace

WithdrawBatcher::WithdrawBatcher(const PinholeConfig& cfg, Transactor& tx)
    : cfg_(cfg),
      tx_(tx),
      form_(cfg.destroyElements ? DeleteForm::Unknown : DeleteForm::Delete),
      buf_(kBatchBytes) {}

DeleteForm WithdrawBatcher::probe() {
  NftBatch batch(buf_, tx_.reserveSeq(1));
  if (!appendDestroyProbe(batch, cfg_) || !batch.finish()) return form_;
  ++transactions_;
  if (!tx_.commitEach(batch, codes_).ok()) return form_;
  const int code = codes_[0];
  if (code == 0) {
    form_ = DeleteForm::Destroy;
  } else if (code != -1 && !gone(code)) {
    form_ = DeleteForm::Delete;  // EINVAL: no such message type (or anything else: the safe form)
  }
  return form_;
}

void WithdrawBatcher::withdraw(std::span<const core::Expectation> xs, std::span<Status> out) {
  if (form_ == DeleteForm::Unknown && !xs.empty()) (void)probe();
  for (size_t at = 0; at < xs.size(); at += kMaxPerBatch) {
    const size_t n = std::min(kMaxPerBatch, xs.size() - at);
    withdrawChunk(xs.subspan(at, n), out.subspan(at, n));
  }
}

void WithdrawBatcher::withdrawChunk(std::span<const core::Expectation> xs, std::span<Status> out) {
  count_ = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    out[i] = Status();
    if (!withdrawable(xs[i])) {
      out[i] = Status::error(EINVAL, "nft: withdraw: invalid expectation");
      continue;
    }
    std::array<AdmitElement, 4> parts{};
    const size_t n = admitElements(xs[i], parts);
    for (size_t p = 0; p < n; ++p) {
      elements_[count_++] = Element{static_cast<uint16_t>(i), parts[p]};
    }
  }
  for (int round = 0; round < kMaxRounds && count_ > 0; ++round) {
    const Attempt a = attempt(xs, out);
    if (a == Attempt::Done) return;
    if (a == Attempt::OneByOne) break;
  }
  oneByOne(xs, out);
}

WithdrawBatcher::Attempt WithdrawBatcher::attempt(std::span<const core::Expectation> xs,
                                                  std::span<Status> out) {
  NftBatch batch(buf_, tx_.reserveSeq(count_));
  bool built = true;
  for (size_t k = 0; k < count_ && built; ++k) {
    const Element& e = elements_[k];
    built = appendWithdraw(batch, cfg_, xs[e.item], e.which, form_).ok();
  }
  // Cannot fail (kMaxPerBatch admits fit, each was checked); one by one would still do them.
  if (!built || !batch.finish()) return Attempt::OneByOne;
  ++transactions_;
  const Status s = tx_.commitEach(batch, codes_);
  if (!s.ok()) {
    // Not sent, or the outcome is unknown: each admit of the batch failed with that error.
    for (size_t k = 0; k < count_; ++k) {
      if (out[elements_[k].item].ok()) out[elements_[k].item] = s;
    }
    count_ = 0;
    return Attempt::Done;
  }
  if (std::all_of(codes_.begin(), codes_.begin() + static_cast<std::ptrdiff_t>(count_),
                  [](int c) { return c == 0; })) {
    count_ = 0;
    return Attempt::Done;  // committed
  }
  // Aborted: the elements the kernel accepted (or did not answer for) go again; those gone
  // already are done; any other error is their admit's outcome.
  size_t kept = 0;
  for (size_t k = 0; k < count_; ++k) {
    const int code = codes_[k];
    const Element e = elements_[k];
    if (code == 0 || code == -1) {
      elements_[kept++] = e;
    } else if (!gone(code) && out[e.item].ok()) {
      out[e.item] = Status::error(
          code, std::string(batch.label(batch.firstSeq() + static_cast<uint32_t>(k))));
    }
  }
  count_ = kept;
  return count_ > 0 ? Attempt::Again : Attempt::Done;
}

void WithdrawBatcher::oneByOne(std::span<const core::Expectation> xs, std::span<Status> out) {
  for (size_t k = 0; k < count_; ++k) {
    const Element& e = elements_[k];
    NftBatch batch(buf_, tx_.reserveSeq(1));
    Status s = appendWithdraw(batch, cfg_, xs[e.item], e.which, form_);
    if (s.ok() && !batch.finish()) s = Status::error(EMSGSIZE, "nft: withdraw: batch too large");
    if (s.ok()) {
      ++transactions_;
      s = tx_.commitEach(batch, codes_);
      if (s.ok() && codes_[0] != 0 && !gone(codes_[0])) {
        s = Status::error(codes_[0] == -1 ? ETIMEDOUT : codes_[0],
                          std::string(batch.label(batch.firstSeq())));
      }
    }
    if (!s.ok() && out[e.item].ok()) out[e.item] = s;
  }
  count_ = 0;
}

}  // namespace ftpalg::kernel::nft
