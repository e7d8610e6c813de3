// Resource limits: what the engine gives up first when its fixed tables run out, and the
// deadlines after which a session that never got established, or a line held too long, is
// resolved. The rules are in docs/design.md, "Resource limits".
#include <algorithm>

#include "actions_out.h"
#include "engine_impl.h"
#include "seq_math.h"
#include "session_snapshot.h"

namespace ftpalg::core {

namespace {

// Room for ending one session from the packet path: its held packets each get a verdict.
bool roomToEnd(const Actions& out) { return out.packetCount + 2 * kMaxHeld < Actions::kMaxPackets; }

}  // namespace

uint64_t EngineImpl::timeoutOf(const Session& s) const {
  if (s.closing) return cfg_.closeTimeoutNs;
  if (!s.established()) return std::min(cfg_.halfOpenTimeoutNs, cfg_.idleTimeoutNs);
  return cfg_.idleTimeoutNs;
}

// The table is full: the oldest session on probation makes room (an established one never
// does). nullptr when every session is established.
Session* EngineImpl::evictForNew(const SegmentIn& in, Actions& out) {
  Session* victim = sessions_.oldestOnProbation();
  if (victim == nullptr || !roomToEnd(out)) return nullptr;
  counters_.add(Counter::SessionEvicted);
  endSession(*victim, out, true);
  return sessions_.create(in.key, in.now);
}

// No slot for a new session: its packet gets the declared verdict (failOpenWhenFull).
void EngineImpl::tableFull(const SegmentIn& in, Actions& out) {
  counters_.add(Counter::SessionTableFull);
  addPacket(out, in.handle, cfg_.failOpenWhenFull ? PacketVerdict::Accept : PacketVerdict::Drop);
  if (!in.syn || in.d != Dir::C2S) return;
  if (Event* e = addEvent(out, counters_)) {
    e->tsNs = in.now;
    e->flow = in.key;
    e->dir = in.d;
    e->kind = EventKind::Desync;
    e->verdict = cfg_.failOpenWhenFull ? Verdict::Pass : Verdict::Refuse;
    e->reason = Reason::SessionTableFull;
    e->handle = in.handle;
  }
}

// The pool is exhausted: ends the least valuable session that holds a buffer. A session on
// probation first (in turn, from a clock hand over the buffers: under a flood of junk the next
// one is junk, so this costs a step or two); for an established requester, else the established
// session silent longest that has been silent for halfOpenTimeout. Never an established session
// with recent traffic. Before the established one is ended, a buffer that only waits for an
// acknowledgement is emptied instead (forgetQuietFlight).
bool EngineImpl::reclaimBuffer(const Session& requester, uint64_t now, Actions& out) {
  if (!roomToEnd(out)) return false;
  Session* victim = nullptr;
  Session* idle = nullptr;
  const size_t n = pool_.count();
  for (size_t step = 0; step < n && victim == nullptr; ++step) {
    Session* o = pool_.at((reclaimHand_ + step) % n).owner;
    if (o == nullptr || o == &requester) continue;
    if (!o->established()) {
      victim = o;
      reclaimHand_ = (reclaimHand_ + step + 1) % n;
    } else if (requester.established() && now >= o->lastSeenNs &&
               now - o->lastSeenNs >= cfg_.halfOpenTimeoutNs &&
               (idle == nullptr || o->lastSeenNs < idle->lastSeenNs)) {
      idle = o;
    }
  }
  if (victim == nullptr && forgetQuietFlight(requester)) return true;
  if (victim == nullptr) victim = idle;
  if (victim == nullptr) return false;
  counters_.add(Counter::BufferReclaimed);
  endSession(*victim, out, true);
  return true;
}

// Before an established session is ended for its buffer: a buffer that holds only released
// bytes no splice touches, waiting for an acknowledgement (which, with pure ACKs bypassing the
// queue, only the peer's next data packet brings), of the session silent longest. Forgetting
// them ends nothing; a late retransmission of them is no longer compared with what was
// inspected (in_flight_evicted).
bool EngineImpl::forgetQuietFlight(const Session& requester) {
  DirBuffer* quiet = nullptr;
  for (size_t i = 0; i < pool_.count(); ++i) {
    DirBuffer& b = pool_.at(i);
    const Session* o = b.owner;
    if (o == nullptr || o == &requester) continue;
    const DirState& ds = o->dir[static_cast<size_t>(b.ownerDir)];
    if (b.lineLen != 0 || b.heldCount != 0 || ds.holding || b.map.size() != 0 ||
        ds.released != ds.next) {
      continue;
    }
    if (quiet == nullptr || o->lastSeenNs < quiet->owner->lastSeenNs) quiet = &b;
  }
  if (quiet == nullptr) return false;
  DirState& ds = quiet->owner->at(quiet->ownerDir);
  counters_.add(Counter::InFlightEvicted);
  quiet->flightStart = ds.next;
  quiet->flightLen = 0;
  pool_.releaseIfIdle(ds);
  return true;
}

// Before one more packet is held: past maxHeldPackets in all, the line held longest by another
// direction is released unrewritten. The count is an estimate that only overcounts (releases do
// not lower it), made exact by a scan of the pool when it reaches the limit.
void EngineImpl::limitHolds(const Session& holder, Actions& out) {
  if (++heldEstimate_ < cfg_.maxHeldPackets) return;
  size_t total = 0;
  DirBuffer* oldest = nullptr;
  pool_.forEachOwned([&](DirBuffer& b) {
    total += b.heldCount;
    if (b.heldCount == 0 || (b.owner == &holder)) return;
    if (oldest == nullptr || b.holdSinceNs < oldest->holdSinceNs) oldest = &b;
  });
  heldEstimate_ = total + 1;
  if (total < cfg_.maxHeldPackets || oldest == nullptr) return;
  if (out.packetCount + oldest->heldCount + kMaxHeld >= Actions::kMaxPackets) return;
  counters_.add(Counter::HoldLimit);
  heldEstimate_ -= oldest->heldCount;
  abandonHold(*oldest->owner, oldest->ownerDir, out);
}

// Gives up holding the line in progress in direction `d`: its held packets leave with the bytes
// as they are (splices already recorded still apply), and the line is not held again. If it
// completes as an announcement, the announcement is refused (partially_released).
void EngineImpl::abandonHold(Session& s, Dir d, Actions& out) {
  DirState& ds = s.at(d);
  DirState& os = s.at(opposite(d));
  DirBuffer* b = pool_.get(ds);
  if (b == nullptr || !ds.holding || b->heldCount == 0) return;
  HeldSeg last = b->held[b->heldCount - 1];
  --b->heldCount;
  emitter_.release(ds, os, ds.heldFrom, ds.next, &last, 0, true, out);
  // The last held packet carried no fresh acknowledgement; keep its own.
  out.packets[out.packetCount - 1].ack =
      (last.flags & TcpAck) != 0 ? stream_.mapAck(os, last.ack) : last.ack;
  ds.released = ds.next;
  ds.holdAbandoned = true;
  ds.abandonedLine = ds.lineStart;
}

bool EngineImpl::expire(uint64_t now, Actions& out) {
  emitter_.begin({});
  const bool done = sessions_.forEach([&](Session& s) {
    if (out.packetCount + 2 * kMaxHeld > Actions::kMaxPackets) return false;
    if (out.stateCount == Actions::kMaxStates) return false;
    if (out.eventCount + 2 * kMaxExpect > Actions::kMaxEvents) return false;
    if (now >= s.lastSeenNs && now - s.lastSeenNs >= timeoutOf(s)) {
      counters_.add(Counter::Expired);
      if (!s.established()) counters_.add(Counter::HalfOpenExpired);
      endSession(s, out, true);
      return true;
    }
    if (s.resetPending && now >= s.resetPendingNs &&
        now - s.resetPendingNs >= cfg_.resetPendingTimeoutNs) {
      counters_.add(Counter::RstPendingEnded);
      endSession(s, out, true);
      return true;
    }
    if (s.persisted && !needsStoring(s, pool_, now)) {
      s.persisted = false;  // its last outstanding announcement expired
      addState(out, s.key, true);
    }
    for (Dir d : {Dir::C2S, Dir::S2C}) {
      const DirBuffer* b = pool_.get(s.at(d));
      if (b == nullptr || !s.at(d).holding || now < b->holdSinceNs ||
          now - b->holdSinceNs < cfg_.holdTimeoutNs) {
        continue;
      }
      counters_.add(Counter::HoldTimeout);
      abandonHold(s, d, out);
    }
    return true;
  });
  return !done;
}

}  // namespace ftpalg::core
