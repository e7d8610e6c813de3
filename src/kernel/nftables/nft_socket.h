// A NETLINK_NETFILTER socket that commits NftBatch transactions and waits for the kernel's
// acknowledgement of every message in them.
#pragma once

#include <cstdint>
#include <span>

#include "ftpalg/status.h"
#include "kernel/nftables/nft_batch.h"
#include "kernel/nftables/nft_transactor.h"

struct mnl_socket;

namespace ftpalg::kernel::nft {

class NftSocket final : public Transactor {
 public:
  NftSocket() = default;
  ~NftSocket() override;
  NftSocket(const NftSocket&) = delete;
  NftSocket& operator=(const NftSocket&) = delete;

  // Opens and binds the socket (idempotent).
  Status open();
  [[nodiscard]] bool isOpen() const { return nl_ != nullptr; }
  // Sequence number for the next batch's BEGIN message (reserves `messages` + 2 numbers).
  uint32_t reserveSeq(size_t messages) override;
  // Sends the finished batch and reads one acknowledgement per message. Returns the first
  // error the kernel reported, labelled with its message ("nft: add element to pin4"); an
  // error whose errno is `tolerated` (e.g. ENOENT when deleting) counts as success.
  Status commit(const NftBatch& batch, int tolerated = 0);
  // Transactor::commitEach: every message's answer (withdrawals drop the elements gone).
  Status commitEach(const NftBatch& batch, std::span<int> codes) override;

 private:
  mnl_socket* nl_ = nullptr;
  uint32_t portId_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace ftpalg::kernel::nft
