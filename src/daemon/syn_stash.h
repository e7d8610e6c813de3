// Deferred SYNs of control connections.
//
// The engine asks the NatResolver for a session's NAT binding once, when it sees the session's
// first segment. At the forward hook the client's SYN belongs to an unconfirmed conntrack entry
// that ctnetlink cannot find, and source NAT is only chosen later, in postrouting. So the
// adapter forwards a client SYN at once without showing it to the engine, keeps a copy here,
// and feeds the copy to the engine just before the server's SYN-ACK, when the entry is
// confirmed and its NAT binding known. The engine still learns both initial sequence numbers
// and the MSS options, in order.
//
// Memory: a fixed table of `capacity` slots (open addressing, bounded probing); a SYN that
// finds no free slot replaces the oldest in its probe window. A lost entry costs only a
// mid-stream pickup of that session. No allocation after construction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

class SynStash {
 public:
  static constexpr size_t kMaxSynBytes = 128;  // IPv6 header + TCP header with all options

  explicit SynStash(size_t capacity);

  // Keeps a copy of the SYN of `flow` (a retransmitted SYN replaces the earlier copy). False
  // when the packet is too long to keep.
  bool put(const core::FlowKey& flow, std::span<const uint8_t> packet, uint64_t nowNs);
  // Moves the SYN of `flow` into `out` and forgets it. False when there is none.
  bool take(const core::FlowKey& flow, std::vector<uint8_t>& out);
  // Forgets SYNs kept longer than maxAgeNs (their handshake never completed).
  void prune(uint64_t nowNs, uint64_t maxAgeNs);
  [[nodiscard]] size_t size() const { return used_; }

 private:
  struct Slot {
    bool used = false;
    core::FlowKey flow;
    uint64_t tsNs = 0;
    uint8_t len = 0;
    std::array<uint8_t, kMaxSynBytes> bytes{};
  };
  static constexpr size_t kProbe = 8;
  [[nodiscard]] size_t home(const core::FlowKey& flow) const;

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t used_ = 0;
};

}  // namespace ftpalg::daemon
