// Announcing a data endpoint: policy decides, the rewritten address is formatted and spliced
// into the stream, and an admitted expectation is counted against the per-session budget.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "counters.h"
#include "data_keys.h"
#include "dir_buffers.h"
#include "ftpalg/core/engine.h"
#include "policy.h"
#include "session.h"
#include "wire_forms.h"

namespace ftpalg::core {

// One parsed announcement line and where it stands in its stream.
struct Announcement {
  Dir dir = Dir::C2S;
  const WireForm* form = nullptr;
  AddrParse parse;
  bool solicited = true;  // replies: answers a pending command of the form's kind
  std::string_view line;
  uint32_t lineSeq = 0;  // original seq of line[0]
  uint64_t handle = 0;
  uint64_t nowNs = 0;
};

// Expectations of a session still alive at nowNs.
size_t outstandingExpectations(const std::array<uint64_t, kMaxExpect>& until, uint64_t nowNs);
// Remembers an admitted expectation's end in the slot that ends first (of the first `limit`).
void recordExpectation(std::array<uint64_t, kMaxExpect>& until, size_t limit, uint64_t endNs);

// Judges announcements and writes their events.
class Announcer {
 public:
  Announcer(const EngineConfig& cfg, DirBufferPool& pool, DataKeys& keys, Counters& counters)
      : cfg_(cfg), pool_(pool), keys_(keys), counters_(counters) {}

  // Decides, splices when admitted with a rewrite, and appends the event (counted even when
  // `out` has no room for it). True when an admitted command now awaits the server's reply.
  bool announce(Session& s, const Announcement& a, Actions& out);

  // Withdrawing (announce_keys.cc). The final reply to an admitted PORT/EPRT/LPRT of `s`:
  // `success` (2xx) keeps it, anything else withdraws it (with withdrawAnnouncements).
  void answered(Session& s, bool success, uint64_t nowNs, Actions& out);
  // `s` ends: withdraws (with withdrawAnnouncements) and forgets all its announcements.
  void withdrawAll(Session& s, Actions& out);

 private:
  PolicyDecision decide(const Session& s, const Announcement& a) const;
  // The admitted decision's data key must be free: keeps it, moves it to the next free public
  // port (rewriting the announcement), or says why not (announce_keys.cc).
  Reason reserve(Session& s, const Announcement& a, PolicyDecision& dec);
  // Records the admitted expectation and its data key; an answered entry of `s` with the same
  // mapping is superseded, with its expectation slot (the kernel elements are the same: the
  // admit re-installs them).
  void record(Session& s, const Expectation& x, Dir d, bool awaits, uint64_t nowNs);
  void withdraw(Session& s, DataKey& k, Reason why, uint64_t nowNs, Actions& out);
  // Splices the rewritten address text; returns Ok, or why the announcement is refused.
  Reason splice(DirState& ds, const Announcement& a, const Endpoint& rewritten, Actions& out);

  const EngineConfig& cfg_;
  DirBufferPool& pool_;
  DataKeys& keys_;
  Counters& counters_;
};

}  // namespace ftpalg::core
