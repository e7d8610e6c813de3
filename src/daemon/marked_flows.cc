#include "daemon/marked_flows.h"

#include <cstring>

namespace ftpalg::daemon {
namespace {

// One multiply-xorshift round of a 64-bit word into the state.
uint64_t mix(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 32);
}

uint64_t mixAddr(uint64_t h, const core::IpAddr& a) {
  for (size_t i = 0; i < a.bytes.size(); i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, a.bytes.data() + i, sizeof(w));
    h = mix(h, w);
  }
  return h;
}

}  // namespace

size_t SeededFlowHash::operator()(const core::FlowKey& k) const {
  uint64_t h = mix(seed, uint64_t{k.client.port} << 16 | k.server.port |
                             uint64_t{static_cast<uint8_t>(k.client.addr.family)} << 32);
  h = mixAddr(h, k.client.addr);
  h = mixAddr(h, k.server.addr);
  return static_cast<size_t>(h ^ (h >> 29));
}

MarkedFlows::MarkedFlows(size_t capacity, uint64_t seed)
    : capacity_(capacity), index_(capacity, SeededFlowHash{seed}) {}

MarkedFlow* MarkedFlows::find(const core::FlowKey& flow) {
  const auto it = index_.find(flow);
  return it == index_.end() ? nullptr : &*it->second;
}

void MarkedFlows::add(const MarkedFlow& m) {
  if (capacity_ == 0) return;
  if (index_.size() >= capacity_) {
    index_.erase(order_.front().flow);
    order_.pop_front();
  }
  order_.push_back(m);
  index_.emplace(m.flow, std::prev(order_.end()));
}

void MarkedFlows::erase(const core::FlowKey& flow) {
  const auto it = index_.find(flow);
  if (it == index_.end()) return;
  order_.erase(it->second);
  index_.erase(it);
}

void MarkedFlows::expire(uint64_t nowNs, uint64_t idleNs) {
  for (auto it = order_.begin(); it != order_.end();) {
    if (nowNs - it->lastNs > idleNs) {
      index_.erase(it->flow);
      it = order_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ftpalg::daemon
