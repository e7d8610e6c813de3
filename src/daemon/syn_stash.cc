#include "daemon/syn_stash.h"

#include <algorithm>

namespace ftpalg::daemon {
namespace {

uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL; }

uint64_t hashEndpoint(uint64_t h, const core::Endpoint& e) {
  for (uint8_t b : e.addr.bytes) h = mix(h, b);
  return mix(h, e.port);
}

}  // namespace

SynStash::SynStash(size_t capacity) {
  size_t n = kProbe;
  while (n < capacity) n <<= 1;
  slots_.resize(n);
  mask_ = n - 1;
}

size_t SynStash::home(const core::FlowKey& flow) const {
  uint64_t h = 0xcbf29ce484222325ULL;
  h = hashEndpoint(h, flow.client);
  h = hashEndpoint(h, flow.server);
  return static_cast<size_t>(h ^ (h >> 29)) & mask_;
}

bool SynStash::put(const core::FlowKey& flow, std::span<const uint8_t> packet, uint64_t nowNs) {
  if (packet.size() > kMaxSynBytes) return false;
  const size_t start = home(flow);
  Slot* target = nullptr;
  for (size_t i = 0; i < kProbe; ++i) {
    Slot& s = slots_[(start + i) & mask_];
    if (s.used && s.flow == flow) {
      target = &s;
      break;
    }
    if (!s.used && target == nullptr) target = &s;
  }
  if (target == nullptr) {  // window full: replace the oldest
    target = &slots_[start];
    for (size_t i = 1; i < kProbe; ++i) {
      Slot& s = slots_[(start + i) & mask_];
      if (s.tsNs < target->tsNs) target = &s;
    }
  }
  if (!target->used) ++used_;
  target->used = true;
  target->flow = flow;
  target->tsNs = nowNs;
  target->len = static_cast<uint8_t>(packet.size());
  std::copy(packet.begin(), packet.end(), target->bytes.begin());
  return true;
}

bool SynStash::take(const core::FlowKey& flow, std::vector<uint8_t>& out) {
  const size_t start = home(flow);
  for (size_t i = 0; i < kProbe; ++i) {
    Slot& s = slots_[(start + i) & mask_];
    if (s.used && s.flow == flow) {
      out.assign(s.bytes.begin(), s.bytes.begin() + s.len);
      s.used = false;
      --used_;
      return true;
    }
  }
  return false;
}

void SynStash::prune(uint64_t nowNs, uint64_t maxAgeNs) {
  if (used_ == 0) return;
  for (Slot& s : slots_) {
    if (s.used && nowNs - s.tsNs > maxAgeNs) {
      s.used = false;
      --used_;
    }
  }
}

}  // namespace ftpalg::daemon
