#include "daemon/held_pool.h"

namespace ftpalg::daemon {

HeldPool::HeldPool(size_t capacity, size_t slotBytes) : slots_(capacity) {
  size_t n = 1;
  while (n < 2 * capacity) n <<= 1;
  index_.assign(n, kEmpty);
  mask_ = n - 1;
  freeSlots_.reserve(capacity);
  for (size_t i = capacity; i > 0; --i) {
    slots_[i - 1].bytes.reserve(slotBytes);
    freeSlots_.push_back(static_cast<uint32_t>(i - 1));
  }
}

size_t HeldPool::home(uint32_t id) const {
  return static_cast<size_t>((uint64_t{id} * 0x9e3779b97f4a7c15ULL) >> 32) & mask_;
}

size_t HeldPool::locate(uint32_t id) const {
  for (size_t i = home(id);; i = (i + 1) & mask_) {
    const uint32_t s = index_[i];
    if (s == kEmpty) return index_.size();
    if (slots_[s].id == id) return i;
  }
}

bool HeldPool::put(uint32_t id, std::span<const uint8_t> bytes, uint64_t receivedNs) {
  if (freeSlots_.empty() || locate(id) != index_.size()) return false;
  const uint32_t s = freeSlots_.back();
  freeSlots_.pop_back();
  Slot& slot = slots_[s];
  slot.id = id;
  slot.used = true;
  slot.receivedNs = receivedNs;
  slot.bytes.assign(bytes.begin(), bytes.end());
  size_t i = home(id);
  while (index_[i] != kEmpty) i = (i + 1) & mask_;
  index_[i] = s;
  ++used_;
  return true;
}

const std::vector<uint8_t>* HeldPool::find(uint32_t id) const {
  const size_t i = locate(id);
  if (i == index_.size()) return nullptr;
  return &slots_[index_[i]].bytes;
}

uint64_t HeldPool::receivedNs(uint32_t id, uint64_t otherwise) const {
  if (used_ == 0) return otherwise;
  const size_t i = locate(id);
  return i == index_.size() ? otherwise : slots_[index_[i]].receivedNs;
}

void HeldPool::erase(uint32_t id) {
  size_t i = locate(id);
  if (i == index_.size()) return;
  const uint32_t s = index_[i];
  slots_[s].used = false;
  freeSlots_.push_back(s);
  --used_;
  // Backward-shift deletion: move later members of the probe run into the hole when their
  // home position allows it, so lookups never need tombstones.
  index_[i] = kEmpty;
  for (size_t j = (i + 1) & mask_; index_[j] != kEmpty; j = (j + 1) & mask_) {
    const size_t h = home(slots_[index_[j]].id);
    // Entry at j may move to the hole i when its home is not in the cyclic range (i, j].
    const bool homeInRange = i <= j ? (h > i && h <= j) : (h > i || h <= j);
    if (!homeInRange) {
      index_[i] = index_[j];
      index_[j] = kEmpty;
      i = j;
    }
  }
}

std::vector<uint32_t> HeldPool::ids() const {
  std::vector<uint32_t> out;
  for (const Slot& s : slots_) {
    if (s.used) out.push_back(s.id);
  }
  return out;
}

}  // namespace ftpalg::daemon
