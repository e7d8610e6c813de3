#include "session_table.h"

#include <new>
#include <type_traits>

namespace ftpalg::core {

namespace {

size_t roundPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

// Slots are never destroyed one by one (a freed slot is reused as it is).
static_assert(std::is_trivially_destructible_v<Session>);
static_assert(alignof(Session) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

SessionTable::SessionTable(size_t capacity)
    : storage_(new std::byte[capacity * sizeof(Session)]),
      capacity_(capacity),
      index_(roundPow2(capacity * 2), kNone) {}

Session* SessionTable::create(const FlowKey& key, uint64_t nowNs) {
  if (live_ == capacity_) return nullptr;
  uint32_t slot = freeTop_;
  if (slot != kNone) {
    freeTop_ = at(slot).probNext;
    at(slot) = Session{};
  } else {
    slot = constructed_++;
    new (&at(slot)) Session{};
  }
  Session& s = at(slot);
  s.used = true;
  s.key = key;
  s.lastSeenNs = nowNs;
  s.nat = NatBinding{key.client.addr, key.client.addr, key.server.addr, key.server.addr};
  const size_t mask = index_.size() - 1;
  size_t i = home(key);
  while (index_[i] != kNone) i = (i + 1) & mask;
  index_[i] = slot;
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
    at(probTail_).probNext = slot;
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
    at(s.probPrev).probNext = s.probNext;
  }
  if (s.probNext == kNone) {
    probTail_ = s.probPrev;
  } else {
    at(s.probNext).probPrev = s.probPrev;
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
        s.probNext = freeTop_;
        freeTop_ = slot;
        --live_;
        return;
      }
      const size_t h = home(at(index_[j]).key);
      const bool between = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!between) break;
    }
    index_[i] = index_[j];
    i = j;
  }
}

}  // namespace ftpalg::core
