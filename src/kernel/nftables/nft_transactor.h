// What sends an nf_tables transaction and reports each message's outcome: NftSocket, and fakes
// in the unit tests of logic that reacts to the outcomes (WithdrawBatcher).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ftpalg/status.h"
#include "kernel/nftables/nft_batch.h"

namespace ftpalg::kernel::nft {

// Sends transactions and reads one acknowledgement per message. Used by one thread.
class Transactor {
 public:
  virtual ~Transactor() = default;
  // Sequence number for the next batch's BEGIN message (reserves `messages` + 2 numbers).
  virtual uint32_t reserveSeq(size_t messages) = 0;
  // Sends the finished batch; codes[i] (codes.size() >= batch.messageCount()) becomes the errno
  // the kernel answered data message i with (0: accepted), or -1 when no answer came. The
  // transaction is all or nothing: committed only when every code is 0 (the kernel goes on
  // through a failing batch and answers every message, then aborts it). Not ok: the batch was
  // not sent, or the kernel failed it as a whole (an error on its BEGIN message), or answers
  // are missing without an error to explain it (ETIMEDOUT): its outcome is unknown.
  virtual Status commitEach(const NftBatch& batch, std::span<int> codes) = 0;
};

}  // namespace ftpalg::kernel::nft
