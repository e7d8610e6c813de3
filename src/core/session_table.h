// The fixed table of sessions: slots allocated once, found by FlowKey through an open-addressing
// index (linear probing, backward-shift deletion, no tombstones).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "session.h"

namespace ftpalg::core {

// Fixed-capacity session storage. Pointers to sessions stay valid until erase().
class SessionTable {
 public:
  explicit SessionTable(size_t capacity);

  // The live session with this key, or nullptr.
  Session* find(const FlowKey& key);
  // A fresh session for `key` (NAT defaults to the key's own addresses), or nullptr when the
  // table is full. The key must not be live already.
  Session* create(const FlowKey& key, uint64_t nowNs);
  // Frees the slot of a live session.
  void erase(Session& s);

  // Calls f(Session&) for each live session in slot order; stops early when f returns false,
  // and then returns false.
  template <typename F>
  bool forEach(F&& f) {
    for (Session& s : slots_) {
      if (s.used && !f(s)) return false;
    }
    return true;
  }

  [[nodiscard]] size_t size() const { return live_; }
  [[nodiscard]] size_t capacity() const { return slots_.size(); }

 private:
  size_t home(const FlowKey& key) const;

  std::vector<Session> slots_;
  std::vector<uint32_t> index_;  // power of two, at least twice the slots; kNone = empty
  size_t live_ = 0;
  size_t nextFree_ = 0;
};

}  // namespace ftpalg::core
