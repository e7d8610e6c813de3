#include "daemon/event_budget.h"

#include <algorithm>

namespace ftpalg::daemon {
namespace {

constexpr uint64_t kMaxRefillNs = 60'000'000'000;  // beyond a minute every bucket is full

uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

uint64_t mixEndpoint(uint64_t h, const core::Endpoint& e) {
  for (uint8_t b : e.addr.bytes) h = mix(h, b);
  return mix(h, e.port);
}

}  // namespace

EventBudget::EventBudget(const EventBudgetConfig& cfg, uint64_t seed)
    : cfg_(cfg), seed_(seed), sessions_(kSessionSlots) {}

bool EventBudget::takeFrom(Bucket& b, uint32_t burst, uint32_t perSecond, uint64_t nowNs) {
  const uint64_t cap = uint64_t{burst} * 1000;
  if (!b.used) {
    b = Bucket{cap, nowNs, true};
  } else if (nowNs > b.lastNs && perSecond > 0) {
    const uint64_t elapsed = std::min(nowNs - b.lastNs, kMaxRefillNs);
    const uint64_t add = elapsed * perSecond / 1'000'000;  // thousandths of an event
    if (add > 0) {
      b.milli = std::min(cap, b.milli + add);
      b.lastNs = elapsed == kMaxRefillNs ? nowNs : b.lastNs + add * 1'000'000 / perSecond;
    }
  }
  if (b.milli < 1000) return false;
  b.milli -= 1000;
  return true;
}

size_t EventBudget::slotOf(const core::FlowKey& flow) const {
  const uint64_t h = mixEndpoint(mixEndpoint(seed_, flow.client), flow.server);
  return static_cast<size_t>(h % sessions_.size());
}

bool EventBudget::take(const core::FlowKey& flow, uint64_t nowNs) {
  if (!takeFrom(sessions_[slotOf(flow)], cfg_.sessionBurst, cfg_.sessionPerSecond, nowNs)) {
    ++suppressed_.bySession;
    return false;
  }
  if (!takeFrom(global_, cfg_.globalBurst, cfg_.globalPerSecond, nowNs)) {
    ++suppressed_.byGlobal;
    return false;
  }
  return true;
}

EventBudget::Suppressed EventBudget::takeSuppressed() {
  const Suppressed s = suppressed_;
  suppressed_ = {};
  return s;
}

}  // namespace ftpalg::daemon
