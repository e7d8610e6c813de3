// Data keys of admitted announcements: reserving one (moving a clashing one to another public
// port, as nf_nat_ftp does: it tries the announced port and up to 127 after it) and
// withdrawing them when the server refuses the command or the session ends.
#include "actions_out.h"
#include "announce.h"

namespace ftpalg::core {
namespace {

constexpr uint32_t kPortTries = 128;  // nf_nat_ftp's range: the announced port and 127 more

// The port after `p`, wrapping within the unprivileged range.
uint16_t nextPort(uint16_t p) { return p == 65535 ? uint16_t{1024} : static_cast<uint16_t>(p + 1); }

}  // namespace

Reason Announcer::reserve(Session& s, const Announcement& a, PolicyDecision& dec) {
  keys_.prune(s, a.nowNs);
  if (keys_.full() && keys_.sweep(a.nowNs) == 0) {
    counters_.add(Counter::DataKeysFull);
    return Reason::DataKeysFull;
  }
  Expectation& x = dec.expect;
  const DataKey* k = keys_.find(x.src.addr, x.dst, a.nowNs);
  // Free, or the same mapping again (the kernel's elements are the same ones).
  if (k == nullptr || k->x.natTo == x.natTo) return Reason::Ok;
  // An address spliced while the line was still arriving has passed with its port text.
  const bool early = s.at(a.dir).earlySpliced && a.form->addressPrefix != nullptr;
  Endpoint moved = x.dst;
  for (uint32_t i = 1; i < kPortTries && !early; ++i) {
    moved.port = nextPort(moved.port);
    if (keys_.find(x.src.addr, moved, a.nowNs) != nullptr) continue;
    x.dst.port = moved.port;
    dec.rewritten.port = moved.port;
    dec.rewrite = true;
    counters_.add(Counter::PortReassigned);
    return Reason::Ok;
  }
  counters_.add(Counter::NoFreePort);
  return Reason::NoFreePort;
}

void Announcer::answered(Session& s, bool success, uint64_t nowNs, Actions& out) {
  DataKey* k = keys_.oldestAwaiting(s);
  if (k == nullptr) return;
  k->awaitingReply = false;
  // Without withdrawals the kernel keeps its elements until they time out: so does the key.
  if (success || !cfg_.withdrawAnnouncements) return;
  withdraw(s, *k, Reason::ServerRefused, nowNs, out);
}

void Announcer::withdrawAll(Session& s, Actions& out) {
  while (s.dataKeys != kNone) {
    DataKey* first = nullptr;
    keys_.forSession(s, [&](DataKey& k) {
      if (first == nullptr) first = &k;
    });
    if (cfg_.withdrawAnnouncements && first->untilNs > s.lastSeenNs) {
      withdraw(s, *first, Reason::SessionEnded, s.lastSeenNs, out);
    } else {
      keys_.erase(s, *first);
    }
  }
}

void Announcer::withdraw(Session& s, DataKey& k, Reason why, uint64_t nowNs, Actions& out) {
  // Another announcement with the very same mapping still needs the kernel's elements.
  if (!keys_.shared(k, nowNs)) {
    counters_.add(Counter::Withdrawn);
    if (Event* e = addSessionEvent(out, counters_, s, k.dir, EventKind::Withdraw, 0, nowNs)) {
      e->verdict = Verdict::Pass;
      e->reason = why;
      e->hasExpect = true;
      e->expect = k.x;
    }
  }
  keys_.erase(s, k);
}

}  // namespace ftpalg::core
