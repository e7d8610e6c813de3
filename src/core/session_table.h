// The fixed table of sessions: slots reserved once, found by FlowKey through an open-addressing
// index (linear probing, backward-shift deletion, no tombstones). A slot is constructed when a
// session first needs it and reused last-freed first, so the memory a table touches follows the
// most sessions ever live at once, not its capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "session.h"

namespace ftpalg::core {

// Hash of a flow: the addresses as 64-bit words (an IPv4 address leaves its other bytes zero,
// so every byte FlowKey's operator== compares is hashed) and the ports, multiply-xorshift
// mixed. Inline: every segment looks its session up.
inline size_t hashFlow(const IpAddr& client, uint16_t clientPort, const IpAddr& server,
                       uint16_t serverPort) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ull;
  uint64_t h = (uint64_t{clientPort} << 16 | serverPort) ^
               (uint64_t{static_cast<uint8_t>(client.family)} << 32);
  auto mix = [&h](const IpAddr& a) {
    for (size_t i = 0; i < a.bytes.size(); i += 8) {
      uint64_t w = 0;
      std::memcpy(&w, a.bytes.data() + i, sizeof(w));
      h = (h ^ w) * kMul;
      h ^= h >> 32;
    }
  };
  mix(client);
  mix(server);
  return static_cast<size_t>(h ^ (h >> 29));
}

inline size_t hashFlowKey(const FlowKey& k) {
  return hashFlow(k.client.addr, k.client.port, k.server.addr, k.server.port);
}

// Fixed-capacity session storage. Pointers to sessions stay valid until erase(). Sessions not
// established yet are also on a probation list, oldest first: the first to go when the table
// is full. The slots are one uninitialised reservation (the allocator maps such a large block
// without touching it); slots [0, constructed_) hold Session objects, the free ones among them
// on a stack linked through probNext.
class SessionTable {
 public:
  explicit SessionTable(size_t capacity);

  // The live session with this key, or nullptr.
  Session* find(const FlowKey& key) { return find(key, hashFlowKey(key)); }
  // Same, with the key's hashFlowKey() computed by the caller (from the packet's own fields:
  // hashing a key just assembled on the stack stalls on store forwarding).
  Session* find(const FlowKey& key, size_t hash) {
    const size_t mask = index_.size() - 1;
    for (size_t i = hash & mask, n = 0; n < index_.size(); i = (i + 1) & mask, ++n) {
      if (index_[i] == kNone) return nullptr;
      Session& s = at(index_[i]);
      if (s.key == key) return &s;
    }
    return nullptr;
  }
  // A fresh session for `key` (NAT defaults to the key's own addresses), or nullptr when the
  // table is full. The key must not be live already.
  Session* create(const FlowKey& key, uint64_t nowNs);
  // Frees the slot of a live session.
  void erase(Session& s);
  // Takes an established session off the probation list (no-op when it is not on it).
  void promote(Session& s) { unlink(s); }
  // The oldest session on probation, or nullptr.
  Session* oldestOnProbation() { return probHead_ == kNone ? nullptr : &at(probHead_); }
  [[nodiscard]] size_t onProbation() const { return probCount_; }

  // Calls f(Session&) for each live session in slot order; stops early when f returns false,
  // and then returns false.
  template <typename F>
  bool forEach(F&& f) {
    for (uint32_t i = 0; i < constructed_; ++i) {
      Session& s = at(i);
      if (s.used && !f(s)) return false;
    }
    return true;
  }

  [[nodiscard]] size_t size() const { return live_; }
  [[nodiscard]] size_t capacity() const { return capacity_; }
  // Slots constructed so far (the most sessions live at once): what the table's memory costs.
  [[nodiscard]] size_t constructed() const { return constructed_; }

 private:
  size_t home(const FlowKey& key) const { return hashFlowKey(key) & (index_.size() - 1); }
  Session& at(uint32_t i) { return reinterpret_cast<Session*>(storage_.get())[i]; }
  uint32_t slotOf(const Session& s) const {
    return static_cast<uint32_t>(&s - reinterpret_cast<const Session*>(storage_.get()));
  }
  void linkTail(Session& s);
  void unlink(Session& s);

  // Raw bytes for capacity_ sessions: default-initialised, so no page is written before use.
  std::unique_ptr<std::byte[]> storage_;
  size_t capacity_;
  uint32_t constructed_ = 0;
  uint32_t freeTop_ = kNone;     // last freed constructed slot; the rest follow via probNext
  std::vector<uint32_t> index_;  // power of two, at least twice the slots; kNone = empty
  size_t live_ = 0;
  uint32_t probHead_ = kNone;
  uint32_t probTail_ = kNone;
  size_t probCount_ = 0;
};

}  // namespace ftpalg::core
