// Data keys of admitted announcements: reserving one (moving a clashing one to another public
// port, as nf_nat_ftp does: it tries the announced port and up to 127 after it) and
// withdrawing them when the server refuses the command or the session ends.
#include <algorithm>

#include "actions_out.h"
#include "announce.h"

namespace ftpalg::core {
namespace {

constexpr uint32_t kPortTries = 128;  // nf_nat_ftp's range: the announced port and 127 more
constexpr uint64_t kDataKeySlackNs = 2'000'000'000;

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
  // Free, or the same mapping again (the kernel's elements are the same ones; one of this
  // session's own is superseded by record()).
  auto usable = [&](const Endpoint& dst) {
    const DataKey* k = keys_.find(x.src.addr, dst, a.nowNs);
    return k == nullptr || k->x.natTo == x.natTo;
  };
  if (usable(x.dst)) return Reason::Ok;
  // An address spliced while the line was still arriving has passed with its port text.
  const bool early = s.at(a.dir).earlySpliced && a.form->addressPrefix != nullptr;
  Endpoint moved = x.dst;
  for (uint32_t i = 1; i < kPortTries && !early; ++i) {
    moved.port = nextPort(moved.port);
    if (!usable(moved)) continue;
    x.dst.port = moved.port;
    dec.rewritten.port = moved.port;
    dec.rewrite = true;
    counters_.add(Counter::PortReassigned);
    return Reason::Ok;
  }
  counters_.add(Counter::NoFreePort);
  return Reason::NoFreePort;
}

void Announcer::record(Session& s, const Expectation& x, Dir d, bool awaits, uint64_t nowNs) {
  bool confirmed = false;
  // A pipelined repeat (the earlier one still awaits its reply) keeps its own entry, so that
  // each reply pairs with its command.
  if (DataKey* old = keys_.findOwn(s, x.src.addr, x.dst, nowNs);
      old != nullptr && !old->awaitingReply && old->x.natTo == x.natTo) {
    confirmed = old->confirmed;
    // The kernel replaces the expectation too: the new one takes the old one's slot.
    const auto slot =
        std::find(s.expectUntil.begin(), s.expectUntil.end(), old->untilNs - kDataKeySlackNs);
    if (slot != s.expectUntil.end()) *slot = 0;
    keys_.erase(s, *old);
  }
  recordExpectation(s.expectUntil, cfg_.maxExpectationsPerSession, nowNs + cfg_.expectTimeoutNs);
  // Reserved a little longer than the kernel keeps its elements (installed after now).
  (void)keys_.add(s, x, d, awaits, nowNs + cfg_.expectTimeoutNs + kDataKeySlackNs, confirmed);
}

void Announcer::answered(Session& s, bool success, uint64_t nowNs, Actions& out) {
  DataKey* k = keys_.oldestAwaiting(s);
  if (k == nullptr) return;
  k->awaitingReply = false;
  k->confirmed = k->confirmed || success;
  // Without withdrawals the kernel keeps its elements until they time out: so does the key.
  // A confirmed one's elements still serve the accepted announcement it superseded.
  if (success || k->confirmed || !cfg_.withdrawAnnouncements) return;
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
