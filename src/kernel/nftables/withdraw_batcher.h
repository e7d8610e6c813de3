// Withdrawing many admits in few nf_tables transactions (the messages: pinhole_withdraw.h).
// A transaction is all or nothing, and deleting an element that is gone already (used by its
// data connection, timed out) fails with ENOENT. So:
//  - kernels with NFT_MSG_DESTROYSETELEM (6.3 and later; probed once) delete without that
//    error: one transaction for up to kMaxPerBatch admits;
//  - older kernels (Debian 12's 6.1) get NFT_MSG_DELSETELEM. The kernel goes on through a
//    failing batch and answers every message with its own error before it aborts the batch,
//    so the elements answered ENOENT are dropped (gone already: success) and the rest is sent
//    again: one more round trip, however many elements were gone. After kMaxRounds (elements
//    vanishing meanwhile) what is left goes one element per transaction, as before batching.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/status.h"
#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/nft_transactor.h"
#include "kernel/nftables/pinhole_withdraw.h"

namespace ftpalg::kernel::nft {

// Batched withdrawals over one Transactor (see above). Used by one thread.
class WithdrawBatcher {
 public:
  // Admits per transaction: up to 4 elements each.
  static constexpr size_t kMaxPerBatch = NftBatch::kMaxMessages / 4;
  // Batched attempts before the rest goes one element per transaction.
  static constexpr int kMaxRounds = 3;

  // `cfg` and `tx` must outlive the batcher. With cfg.destroyElements false the form is
  // DeleteForm::Delete from the start (no probe).
  WithdrawBatcher(const PinholeConfig& cfg, Transactor& tx);

  // Withdraws each of `xs`; out[i] (out.size() >= xs.size()) becomes the outcome of xs[i]:
  // success when every element is deleted or gone already, else the first other error of its
  // elements (EINVAL for an expectation appendWithdraw does not take). Probes the form first
  // while it is unknown. Allocation-free.
  void withdraw(std::span<const core::Expectation> xs, std::span<Status> out);
  // Asks the kernel whether it has NFT_MSG_DESTROYSETELEM (appendDestroyProbe); the answer
  // stays Unknown while the table is missing or the probe could not be sent.
  DeleteForm probe();

  [[nodiscard]] DeleteForm form() const { return form_; }
  // Transactions sent so far, probes included.
  [[nodiscard]] uint64_t transactions() const { return transactions_; }

 private:
  // One element of one admit.
  struct Element {
    uint16_t item;  // index into the caller's span
    AdmitElement which;
  };
  // What one batched attempt left: nothing, elements to send again, or a batch it could not
  // build (the rest then goes one by one).
  enum class Attempt : uint8_t { Done, Again, OneByOne };
  void withdrawChunk(std::span<const core::Expectation> xs, std::span<Status> out);
  // One batched attempt for elements_[0, count_); keeps those to send again.
  Attempt attempt(std::span<const core::Expectation> xs, std::span<Status> out);
  // The rest, one element per transaction.
  void oneByOne(std::span<const core::Expectation> xs, std::span<Status> out);

  const PinholeConfig& cfg_;
  Transactor& tx_;
  DeleteForm form_;
  uint64_t transactions_ = 0;
  std::vector<char> buf_;  // one batch, allocated once
  std::array<Element, NftBatch::kMaxMessages> elements_{};
  size_t count_ = 0;
  std::array<int, NftBatch::kMaxMessages> codes_{};
};

}  // namespace ftpalg::kernel::nft
