#include "daemon/recent_events.h"

namespace ftpalg::daemon {

RecentEvents::RecentEvents() : rings_(kSessions) {}

const RecentEvents::Ring* RecentEvents::find(const core::FlowKey& flow) const {
  for (const Ring& r : rings_) {
    if (r.used && r.flow == flow) return &r;
  }
  return nullptr;
}

RecentEvents::Ring& RecentEvents::slotFor(const core::FlowKey& flow) {
  // Linear: events are per announcement, not per packet, and there are kSessions rings.
  Ring* oldest = &rings_.front();
  for (Ring& r : rings_) {
    if (r.used && r.flow == flow) return r;
    if (!r.used) {
      if (oldest->used) oldest = &r;
    } else if (oldest->used && r.touched < oldest->touched) {
      oldest = &r;
    }
  }
  *oldest = Ring{};
  oldest->flow = flow;
  oldest->used = true;
  return *oldest;
}

void RecentEvents::record(const core::Event& ev) {
  Ring& r = slotFor(ev.flow);
  r.touched = ++clock_;
  r.events[r.next] = ev;
  r.next = (r.next + 1) % kPerSession;
  if (r.count < kPerSession) {
    ++r.count;
  } else {
    ++r.dropped;
  }
}

uint64_t RecentEvents::dropped(const core::FlowKey& flow) const {
  const Ring* r = find(flow);
  return r == nullptr ? 0 : r->dropped;
}

}  // namespace ftpalg::daemon
