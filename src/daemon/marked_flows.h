// The control connections a pinhole-mode worker has set to liberal TCP tracking: found by flow
// in O(1) (every length-changing rewrite asks), at most a fixed number, the oldest marked first
// to be forgotten when full.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <unordered_map>

#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/expectation.h"

namespace ftpalg::daemon {

// A control connection already set to liberal TCP tracking.
struct MarkedFlow {
  core::FlowKey flow;
  uint64_t lastNs = 0;
  kernel::CtTuple orig;  // the entry's original tuple, as marked (restores need no lookup)
};

// Seeded hash of a flow: a client choosing its ports cannot aim at one bucket without the seed.
struct SeededFlowHash {
  uint64_t seed = 0;
  size_t operator()(const core::FlowKey& k) const;
};

// Bounded set of MarkedFlow by flow, in marking order. Used by one thread.
class MarkedFlows {
 public:
  explicit MarkedFlows(size_t capacity, uint64_t seed);

  // The flow's entry, or nullptr.
  MarkedFlow* find(const core::FlowKey& flow);
  // Adds an entry for a flow not in the set; the oldest marked goes first when full.
  void add(const MarkedFlow& m);
  void erase(const core::FlowKey& flow);
  // Forgets the entries not used for longer than `idleNs` before `nowNs`.
  void expire(uint64_t nowNs, uint64_t idleNs);
  [[nodiscard]] size_t size() const { return index_.size(); }

 private:
  size_t capacity_;
  std::list<MarkedFlow> order_;  // oldest marked first
  std::unordered_map<core::FlowKey, std::list<MarkedFlow>::iterator, SeededFlowHash> index_;
};

}  // namespace ftpalg::daemon
