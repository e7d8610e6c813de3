#include "session_table.h"

namespace ftpalg::core {

namespace {

size_t roundPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

SessionTable::SessionTable(size_t capacity)
    : slots_(capacity), index_(roundPow2(capacity * 2), kNone) {}

Session* SessionTable::create(const FlowKey& key, uint64_t nowNs) {
  if (live_ == slots_.size()) return nullptr;
  size_t slot = nextFree_;
  while (slots_[slot].used) slot = (slot + 1) % slots_.size();
  nextFree_ = (slot + 1) % slots_.size();
  Session& s = slots_[slot];
  s = Session{};
  s.used = true;
  s.key = key;
  s.lastSeenNs = nowNs;
  s.nat = NatBinding{key.client.addr, key.client.addr, key.server.addr, key.server.addr};
  const size_t mask = index_.size() - 1;
  size_t i = home(key);
  while (index_[i] != kNone) i = (i + 1) & mask;
  index_[i] = static_cast<uint32_t>(slot);
  ++live_;
  linkTail(s);
  return &s;
}

void SessionTable::linkTail(Session& s) {
  const uint32_t slot = slotOf(s);
  s.probPrev = probTail_;
  s.probNext = kNone;
  if (probTail_ == kNone) {
    probHead_ = slot;
  } else {
    slots_[probTail_].probNext = slot;
  }
  probTail_ = slot;
  ++probCount_;
}

void SessionTable::unlink(Session& s) {
  const uint32_t slot = slotOf(s);
  if (s.probPrev == kNone && probHead_ != slot) return;  // not on the list
  if (s.probPrev == kNone) {
    probHead_ = s.probNext;
  } else {
    slots_[s.probPrev].probNext = s.probNext;
  }
  if (s.probNext == kNone) {
    probTail_ = s.probPrev;
  } else {
    slots_[s.probNext].probPrev = s.probPrev;
  }
  s.probPrev = s.probNext = kNone;
  --probCount_;
}

void SessionTable::erase(Session& s) {
  unlink(s);
  const auto slot = slotOf(s);
  const size_t mask = index_.size() - 1;
  size_t i = home(s.key);
  while (index_[i] != slot) i = (i + 1) & mask;
  // Backward-shift deletion keeps probe chains intact without tombstones.
  size_t j = i;
  for (;;) {
    index_[i] = kNone;
    for (;;) {
      j = (j + 1) & mask;
      if (index_[j] == kNone) {
        s.used = false;
        --live_;
        return;
      }
      const size_t h = home(slots_[index_[j]].key);
      const bool between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!between) break;
    }
    index_[i] = index_[j];
    i = j;
  }
}

}  // namespace ftpalg::core
