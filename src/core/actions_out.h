// Appending to the caller's Actions: one packet verdict or one event at a time.
#pragma once

#include <cstdint>

#include "counters.h"
#include "ftpalg/core/engine.h"
#include "session.h"

namespace ftpalg::core {

// Capacity: one call releases at most kMaxHeld held packets plus the current one, twice (gap
// resync), which Actions::kMaxPackets covers.
inline PacketAction* addPacket(Actions& out, uint64_t handle, PacketVerdict v) {
  PacketAction& a = out.packets[out.packetCount++];
  a = PacketAction{};
  a.handle = handle;
  a.verdict = v;
  return &a;
}

// A cleared event, or nullptr (counted as EventsSuppressed) when `out` has no room.
inline Event* addEvent(Actions& out, Counters& counters) {
  if (out.eventCount == Actions::kMaxEvents) {
    counters.add(Counter::EventsSuppressed);
    return nullptr;
  }
  Event& e = out.events[out.eventCount++];
  e = Event{};
  return &e;
}

// An event of session `s` with its time, flow, direction, kind and packet filled in.
inline Event* addSessionEvent(Actions& out, Counters& counters, const Session& s, Dir d,
                              EventKind k, uint64_t handle, uint64_t nowNs) {
  Event* e = addEvent(out, counters);
  if (e == nullptr) return nullptr;
  e->tsNs = nowNs;
  e->flow = s.key;
  e->dir = d;
  e->kind = k;
  e->handle = handle;
  return e;
}

}  // namespace ftpalg::core
