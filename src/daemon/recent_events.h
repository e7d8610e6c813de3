// The last few events of each recent session, kept by a queue worker for `ftpalg status
// --session FLOW`. Bounded twice: kPerSession events per session (a session flooding
// announcements only overwrites its own), and kSessions sessions (the one updated longest ago
// makes room: to push another session's events out, a peer must produce events in kSessions
// other sessions, each of which the engine's session table and event budget bound).
// All memory is allocated in the constructor. Used by the worker's thread only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// Recent events per session (see above).
class RecentEvents {
 public:
  static constexpr size_t kPerSession = 16;
  static constexpr size_t kSessions = 256;

  RecentEvents();
  // Remembers `ev` under its flow.
  void record(const core::Event& ev);
  // Calls f(const core::Event&) for the kept events of `flow`, oldest first; returns how many.
  template <typename F>
  size_t forFlow(const core::FlowKey& flow, F&& f) const {
    const Ring* r = find(flow);
    if (r == nullptr) return 0;
    for (size_t i = 0; i < r->count; ++i)
      f(r->events[(r->next + kPerSession - r->count + i) % kPerSession]);
    return r->count;
  }
  // Events of `flow` pushed out of its ring (older than the kept ones).
  [[nodiscard]] uint64_t dropped(const core::FlowKey& flow) const;

 private:
  struct Ring {
    core::FlowKey flow;
    bool used = false;
    uint64_t touched = 0;  // record() sequence number of its newest event
    size_t next = 0;       // slot the next event goes to
    size_t count = 0;
    uint64_t dropped = 0;
    std::array<core::Event, kPerSession> events{};
  };
  [[nodiscard]] const Ring* find(const core::FlowKey& flow) const;
  Ring& slotFor(const core::FlowKey& flow);

  std::vector<Ring> rings_;
  uint64_t clock_ = 0;
};

}  // namespace ftpalg::daemon
