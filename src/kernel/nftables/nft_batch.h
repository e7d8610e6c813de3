// One nf_tables transaction under construction: NFNL_MSG_BATCH_BEGIN, the messages, and
// NFNL_MSG_BATCH_END, written into a caller-provided buffer (on the stack for admit()).
// Every message carries NLM_F_ACK and a label naming it in errors.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

struct nlmsghdr;
struct mnl_nlmsg_batch;

namespace ftpalg::kernel::nft {

class NftBatch {
 public:
  // The largest batch: ftpalgd's queueing rules with the ACK bypass in the iptables form, two
  // tables of a chain and, for each of 8 control ports, 2 marked, 4 pure-ACK and 2 plain rules
  // (132 messages; the nft form: 98).
  static constexpr size_t kMaxMessages = 160;

  // `buf` must stay valid while the batch lives; messages are accepted while they fit in half
  // of it (the other half absorbs the one message that crosses the limit). `seq` numbers the
  // BEGIN message; data messages get seq + 1, seq + 2, ...
  NftBatch(std::span<char> buf, uint32_t seq);
  ~NftBatch();
  NftBatch(const NftBatch&) = delete;
  NftBatch& operator=(const NftBatch&) = delete;

  // Starts a message of type NFT_MSG_* (family NFPROTO_*, extra NLM_F_* flags). Returns the
  // header for the caller to append attributes to, then the caller calls end(). Returns nullptr
  // once the batch is full or finished.
  nlmsghdr* begin(uint16_t type, uint16_t family, uint16_t flags, std::string_view label);
  // Closes the message begun last. False (and the batch is unusable) when it overflowed.
  bool end();
  // Appends BATCH_END. False when the batch overflowed at any point.
  bool finish();

  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] std::span<const char> bytes() const;
  [[nodiscard]] uint32_t firstSeq() const { return seq_ + 1; }  // first data message
  [[nodiscard]] size_t messageCount() const { return count_; }
  // Label of the data message with sequence number `seq` ("" when out of range).
  [[nodiscard]] std::string_view label(uint32_t seq) const;

 private:
  std::span<char> buf_;
  mnl_nlmsg_batch* batch_ = nullptr;
  uint32_t seq_;
  size_t count_ = 0;
  bool open_ = false;
  bool finished_ = false;
  bool ok_ = true;
  std::array<std::string_view, kMaxMessages> labels_{};
};

}  // namespace ftpalg::kernel::nft
