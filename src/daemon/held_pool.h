// Copies of held packets: the engine may hold a queued packet (Hold) and later release it
// rewritten (Rewrite), which needs the original bytes; the kernel keeps the packet itself, but
// gives no way to read it again. One pool per queue thread.
//
// Memory: `capacity` slots allocated in the constructor, each with a buffer reserved for a
// typical control packet; a larger packet grows its slot's buffer once, which then stays. The
// id index is a fixed open-addressing table. No allocation in steady state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ftpalg::daemon {

class HeldPool {
 public:
  explicit HeldPool(size_t capacity, size_t slotBytes = 2048);

  // Copies `bytes` under `id`, received at `receivedNs` (for the verdict latency). False when
  // the pool is full or `id` is already held.
  bool put(uint32_t id, std::span<const uint8_t> bytes, uint64_t receivedNs = 0);
  // The bytes held under `id`, or nullptr. Valid until erase(id).
  [[nodiscard]] const std::vector<uint8_t>* find(uint32_t id) const;
  void erase(uint32_t id);
  // When the packet held under `id` was received; `otherwise` when it is not held.
  [[nodiscard]] uint64_t receivedNs(uint32_t id, uint64_t otherwise) const;
  [[nodiscard]] size_t size() const { return used_; }
  [[nodiscard]] size_t capacity() const { return slots_.size(); }
  // Ids currently held (for the shutdown verdicts).
  [[nodiscard]] std::vector<uint32_t> ids() const;

 private:
  struct Slot {
    uint32_t id = 0;
    bool used = false;
    uint64_t receivedNs = 0;
    std::vector<uint8_t> bytes;
  };
  static constexpr uint32_t kEmpty = UINT32_MAX;
  [[nodiscard]] size_t home(uint32_t id) const;
  [[nodiscard]] size_t locate(uint32_t id) const;  // index position, or index_.size()

  std::vector<Slot> slots_;
  std::vector<uint32_t> freeSlots_;
  std::vector<uint32_t> index_;  // slot number or kEmpty; linear probing
  size_t mask_ = 0;
  size_t used_ = 0;
};

}  // namespace ftpalg::daemon
