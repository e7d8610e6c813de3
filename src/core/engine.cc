// The engine: one segment at a time through a short pipeline of named steps (find the session,
// map the peer's numbers, screen the segment against its stream, assemble and handle lines,
// hold or forward). Each step's idea lives in its own file; see docs/design.md for the
// decisions. Every buffer is allocated in the constructor.
#include "ftpalg/core/engine.h"

#include <algorithm>

#include "actions_out.h"
#include "engine_impl.h"
#include "ftp_stage.h"
#include "holding.h"
#include "line_assembler.h"
#include "seq_math.h"
#include "tcp_window.h"

namespace ftpalg::core {

// --- the segment pipeline ------------------------------------------------------------------

// flatten: the steps are inlined back into one function, as fast as before the pipeline was
// cut into named steps (tests/bench/engine_bench.cc measures it).
[[gnu::flatten]] void EngineImpl::onSegment(const Segment& seg, uint64_t now, Actions& out) {
  SegmentIn in{*seg.view, seg.handle, now};
  emitter_.begin(in.v.payload);
  counters_.add(Counter::Segments);
  if (!classifyFlow(in)) {
    counters_.add(Counter::NonControl);
    addPacket(out, seg.handle, PacketVerdict::Accept);
    return;
  }
  Session* s = lookup(in, out);
  if (s == nullptr) return;
  steps(*s, in, out);
  if (cfg_.persistSessions) notePersist(in, out);
}

void EngineImpl::steps(Session& s, SegmentIn& in, Actions& out) {
  s.lastSeenNs = in.now;
  if (noteProgress(s, in.d, in.v.flags, in.len)) sessions_.promote(s);
  resolveNat(s, in);
  startStream(s, in);
  const uint32_t peerAcked = s.at(opposite(in.d)).acked;
  mapPeerNumbers(s, in);
  if (s.resetPending) clearResetPending(s, in, peerAcked);
  if (onControlOnly(s, in, out)) return;
  if (!screen(s, in, out)) return;
  if (!takeNewBytes(s, in, out)) return;
  holdOrForward(s, in, out);
}

bool EngineImpl::classifyFlow(SegmentIn& in) const {
  const PacketView& v = in.v;
  // Field by field, and hashed from the packet's fields: a FlowKey temporary, or hashing the
  // key just stored, costs a store-forwarding stall per segment.
  if (isControlPort(v.dport)) {
    in.d = Dir::C2S;
    in.key.client.addr = v.src;
    in.key.client.port = v.sport;
    in.key.server.addr = v.dst;
    in.key.server.port = v.dport;
    in.hash = hashFlow(v.src, v.sport, v.dst, v.dport);
  } else if (isControlPort(v.sport)) {
    in.d = Dir::S2C;
    in.key.client.addr = v.dst;
    in.key.client.port = v.dport;
    in.key.server.addr = v.src;
    in.key.server.port = v.sport;
    in.hash = hashFlow(v.dst, v.dport, v.src, v.sport);
  } else {
    return false;
  }
  in.syn = (v.flags & TcpSyn) != 0;
  in.fin = (v.flags & TcpFin) != 0;
  in.rst = (v.flags & TcpRst) != 0;
  in.len = static_cast<uint32_t>(v.payload.size());
  return true;
}

// The session of the segment, created when the segment may start one; nullptr when the
// segment has been dealt with already.
Session* EngineImpl::lookup(const SegmentIn& in, Actions& out) {
  Session* s = sessions_.find(in.key, in.hash);
  if (s != nullptr && (in.syn || in.rst) && !admitsFlags(s, in, out)) return nullptr;
  if (s != nullptr) return s;
  if (in.rst || (!in.syn && in.len == 0)) {
    addPacket(out, in.handle, PacketVerdict::Accept);
    return nullptr;
  }
  return open(in, out);
}

Session* EngineImpl::open(const SegmentIn& in, Actions& out) {
  Session* s = sessions_.create(in.key, in.now);
  if (s == nullptr) s = evictForNew(in, out);
  if (s == nullptr) {
    tableFull(in, out);
    return nullptr;
  }
  counters_.add(Counter::Sessions);
  if (in.syn) {
    s->pairing.startAtGreeting();
  } else {
    s->stage = static_cast<uint8_t>(FtpStage::PickedUp);
    s->pairing.forget();
    counters_.add(Counter::MidstreamPickup);
  }
  return s;
}

void EngineImpl::resolveNat(Session& s, const SegmentIn& in) {
  if (s.natResolved || in.bareSyn()) return;
  // Asked once, after the client's SYN: an inline gateway sees that SYN before conntrack has
  // confirmed the connection and NAT has chosen its addresses. And only once the server
  // answered the SYN or the session is established: payload without a handshake (junk to a
  // control port) never costs a kernel query, nor spends the daemon's rationed scans that
  // legitimate sessions need. With resolvePickedUp a session met mid-stream asks at once.
  const bool pickedUp = s.stage == static_cast<uint8_t>(FtpStage::PickedUp);
  if ((s.progress & kServerSynAck) == 0 && !s.established() && !(pickedUp && cfg_.resolvePickedUp))
    return;
  s.natResolved = true;
  NatBinding b;
  if (nat_ == nullptr) return;
  const bool natted = nat_->resolve(in.key, b);
  // A stream picked up mid-way may already be shifted by a predecessor's rewrites (NAT or not).
  if (pickedUp) {
    for (size_t d = 0; d < 2; ++d) s.dir[d].baseDelta = b.priorDelta[d];
  }
  if (natted) s.nat = b;
}

void EngineImpl::startStream(Session& s, const SegmentIn& in) {
  DirState& ds = s.at(in.d);
  if (in.syn) {
    if (!ds.started) {
      ds.started = true;
      ds.next = in.v.seq + 1;
      ds.released = ds.acked = ds.lineStart = ds.next;
    }
    if (in.v.mss != 0) s.at(opposite(in.d)).mss = in.v.mss;
  }
}

// Acknowledgements and SACK blocks refer to the other direction's stream.
void EngineImpl::mapPeerNumbers(Session& s, SegmentIn& in) {
  stream_.outgoing(s.at(opposite(in.d)), in.v, in.handle, in.o);
}

// SYN, RST and bare acknowledgements carry no stream bytes. True when the segment is done.
bool EngineImpl::onControlOnly(Session& s, const SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  if (in.syn) {
    emitter_.forwardAsIs(ds, in.o, in.v.seq, out);
    return true;
  }
  if (!ds.started) {
    // Mid-stream pickup: the first segment seen starts the stream (assumed at a line start).
    ds.started = true;
    ds.next = ds.released = ds.acked = ds.lineStart = in.v.seq;
  }
  if (in.rst) {
    onRst(s, in, out);
    return true;
  }
  if (in.len == 0 && !in.fin) {
    emitter_.forwardAsIs(ds, in.o, in.v.seq, out);
    pool_.releaseIfIdle(ds);
    pool_.releaseIfIdle(s.at(opposite(in.d)));
    return true;
  }
  return false;
}

// Refuses or resolves what is not new data. True when the segment carries new bytes or a FIN.
bool EngineImpl::screen(Session& s, SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  Classified c = stream_.classify(ds, s.finSeen(in.d), in.v.seq, in.v.payload, in.fin);
  if (c.cls == SegmentClass::AheadOfGap) {
    // Never passed uninspected. Drop (TCP retransmits what is missing) unless the gap is
    // declared permanent.
    // An adopted direction resyncs at once: its predecessor may have released more than it
    // could record.
    const bool resyncNow = cfg_.resyncOnGap || ds.adopted;
    if (beyondWindow(ds, in.v.seq) && !resyncNow) {
      drop(in, Counter::OutOfWindow, out);  // conntrack: invalid; not a gap to resync over
      return false;
    }
    if (!resyncNow && ++ds.gapDrops <= cfg_.gapDropLimit) {
      drop(in, Counter::OutOfOrderDropped, out);
      return false;
    }
    resync(s, in.d, in.v.seq, in.handle, in.now, out);
    c = stream_.classify(ds, s.finSeen(in.d), in.v.seq, in.v.payload, in.fin);
  }
  if (c.cls != SegmentClass::AfterFin) ds.gapDrops = 0;
  if (c.cls == SegmentClass::New) ds.adopted = false;
  if (c.resends) counters_.add(Counter::Retransmissions);
  if (c.resends && Stream::resendsForgotten(ds, in.v.seq) && !acceptStale(ds, in, c, out)) {
    return false;
  }
  switch (c.cls) {
    case SegmentClass::AfterFin:
    case SegmentClass::Mismatch:
      refuseEvasion(s, in, out);
      return false;
    case SegmentClass::HeldRetransmit:
      // Retransmission of bytes we hold: the held packets will carry them.
      addPacket(out, in.handle, PacketVerdict::Drop);
      return false;
    case SegmentClass::Duplicate:
      onDuplicate(s, in, out);
      return false;
    case SegmentClass::AheadOfGap:
    case SegmentClass::New:
      break;
  }
  return true;
}

// A pure retransmission: rewritten exactly as the first time.
void EngineImpl::onDuplicate(Session& s, const SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  const DirBuffer* b = pool_.get(ds);
  const uint32_t segStart = in.v.seq;
  const uint32_t segEnd = in.end();
  counters_.add(Counter::OldDuplicate, b == nullptr || seqLt(segStart, b->flightStart) ? 1 : 0);
  if (b == nullptr || seqGe(segStart, seqAdd(b->flightStart, b->flightLen)) ||
      seqLe(segEnd, b->flightStart) || (!in.stale && !b->map.touches(segStart, segEnd))) {
    emitter_.forwardAsIs(ds, in.o, segStart, out);
    return;
  }
  emitter_.release(ds, s.at(opposite(in.d)), seqMax(segStart, b->flightStart), segEnd, &in.o.cur,
                   in.o.ack, false, out);
}

// Stores the new bytes [ds.next, end) and hands them to line assembly. False when the segment
// had to be dropped.
bool EngineImpl::takeNewBytes(Session& s, const SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  const uint32_t newFrom = ds.next;
  const auto newLen = static_cast<uint32_t>(seqDiff(in.end(), newFrom));
  if (newLen > 0) {
    const uint8_t* newData = in.v.payload.data() + seqDiff(newFrom, in.v.seq);
    StoreResult stored = stream_.storeNew(ds, newData, newLen);
    if (stored == StoreResult::PoolExhausted && reclaimBuffer(s, in.now, out)) {
      stored = stream_.storeNew(ds, newData, newLen);
    }
    switch (stored) {
      case StoreResult::PoolExhausted:
        drop(in, Counter::PoolExhausted, out);
        return false;
      case StoreResult::RewriteTableFull:
        drop(in, Counter::SeqAdjFull, out);
        return false;
      case StoreResult::BufferOverflow:
        drop(in, Counter::BufferOverflow, out);
        return false;
      case StoreResult::Stored:
        break;
    }
    ds.maxSeen =
        static_cast<uint16_t>(std::max<uint32_t>(ds.maxSeen, std::min<uint32_t>(in.len, 65535)));
    ds.next = in.end();
    s.bytes[static_cast<size_t>(in.d)] += newLen;
    pool_.own(ds, s, in.d);
    DirBuffer& b = *pool_.get(ds);
    const LineContext ctx{s, in.d, in.handle, in.now, out};
    LineDispatch dispatch(lines_, ctx);
    assembleLines(LineCursor{ds.lineStart, ds.discard,
                             std::span<char>(pool_.line(ds.buf), pool_.lineCapacity()), b.lineLen},
                  newData, newLen, newFrom, cfg_.maxLine, dispatch);
  }
  if (in.fin) {
    s.finMask = static_cast<uint8_t>(s.finMask | (1u << static_cast<unsigned>(in.d)));
    s.closing = s.finMask == 3;
    // Both sides closed: no command of it can be answered any more.
    if (s.closing) announcer_.withdrawAll(s, out);
  }
  return true;
}

void EngineImpl::holdOrForward(Session& s, const SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  const uint32_t segEnd = in.end();
  uint32_t holdAt = 0;
  const bool toPeer = cfg_.pasvAddressMismatch == PasvMismatch::RewriteToPeer;
  if (!in.fin && pool_.get(ds) != nullptr &&
      mustHold(s, in.d, pool_, counters_, holdAt, out, toPeer) && seqLt(holdAt, segEnd)) {
    hold(s, in, out);
    return;
  }
  const DirBuffer* b = pool_.get(ds);
  if (!ds.holding && !in.stale && (b == nullptr || !b->map.touches(in.v.seq, segEnd))) {
    // Common case: nothing spliced in this segment, forward it with shifted numbers only.
    emitter_.forwardAsIs(ds, in.o, in.v.seq, out);
  } else {
    uint32_t from = ds.holding ? ds.heldFrom : in.v.seq;
    if (b != nullptr && seqLt(from, b->flightStart)) from = b->flightStart;
    emitter_.release(ds, s.at(opposite(in.d)), from, segEnd, &in.o.cur, in.o.ack, true, out);
  }
  ds.released = segEnd;
  if (in.fin) ds.next = ds.released = segEnd + 1;
  pool_.releaseIfIdle(ds);
  pool_.releaseIfIdle(s.at(opposite(in.d)));
}

// The line in progress may become an announcement: hold the packet until it completes.
void EngineImpl::hold(Session& s, const SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  DirBuffer& b = *pool_.get(ds);
  if (!ds.holding) {
    ds.holding = true;
    ds.heldFrom = ds.released;
    b.holdSinceNs = in.now;
  }
  if (b.heldCount >= cfg_.maxHeldPerDirection && cfg_.kernelSeqAdjust) {
    // Bytes cannot move between packets here: give up holding this line. If it completes as
    // an announcement, it is refused (partially_released), never half-rewritten.
    emitter_.release(ds, s.at(opposite(in.d)), ds.heldFrom, in.end(), &in.o.cur, in.o.ack, true,
                     out);
    ds.released = in.end();
    counters_.add(Counter::BufferOverflow);
    return;
  }
  limitHolds(s, out);
  park(b, in.o.cur, out, counters_, cfg_.maxHeldPerDirection);
}

// Re-sent bytes that differ from what was inspected, or data after FIN: refused.
void EngineImpl::refuseEvasion(Session& s, const SegmentIn& in, Actions& out) {
  counters_.add(Counter::RetransmitMismatch);
  if (Event* e = addSessionEvent(out, counters_, s, in.d, EventKind::Evasion, in.handle, in.now)) {
    e->verdict = Verdict::Refuse;
    e->reason = Reason::RetransmitMismatch;
  }
  addPacket(out, in.handle, PacketVerdict::Drop);
}

void EngineImpl::resync(Session& s, Dir d, uint32_t at, uint64_t handle, uint64_t now,
                        Actions& out) {
  DirState& ds = s.at(d);
  DirState& os = s.at(opposite(d));
  counters_.add(Counter::GapResync);
  if (Event* e = addSessionEvent(out, counters_, s, d, EventKind::Desync, handle, now)) {
    e->verdict = Verdict::Pass;
    e->reason = Reason::Ok;
  }
  if (DirBuffer* b = pool_.get(ds)) {
    if (ds.holding) {
      HeldSeg last = b->held[b->heldCount - 1];
      --b->heldCount;
      emitter_.release(ds, os, ds.heldFrom, ds.next, &last, 0, true, out);
      // The last held packet carried no fresh acknowledgement; keep its own.
      out.packets[out.packetCount - 1].ack =
          (last.flags & TcpAck) != 0 ? stream_.mapAck(os, last.ack) : last.ack;
    }
    b->lineLen = 0;
    b->flightLen = 0;
    b->flightStart = at;
  }
  // The bytes in the gap never passed through here; the rest of the current line is skipped,
  // and commands or replies may have been lost with them.
  ds.discard = true;
  s.pairing.forget();
  ds.next = at;
  ds.released = at;
  ds.acked = at;
  ds.lineStart = at;
  ds.gapDrops = 0;
}

void EngineImpl::endSession(Session& s, Actions& out, bool dropHeld) {
  for (DirState& d : s.dir) {
    DirBuffer* b = pool_.get(d);
    if (b != nullptr && dropHeld) {
      for (uint32_t i = 0; i < b->heldCount; ++i) {
        addPacket(out, b->held[i].handle, PacketVerdict::Drop);
        counters_.add(Counter::HeldDroppedAtEnd);
      }
    }
    pool_.free(d);
  }
  if (s.persisted) addState(out, s.key, true);
  announcer_.withdrawAll(s, out);
  sessions_.erase(s);
  counters_.add(Counter::SessionsEnded);
}

// --- public surface ------------------------------------------------------------------------

Engine::Engine(const EngineConfig& config, NatResolver* nat)
    : impl_(std::make_unique<EngineImpl>(config, nat)) {}
Engine::~Engine() = default;
bool Engine::isControl(const PacketView& view) const { return impl_->isControl(view); }
void Engine::onSegment(const Segment& seg, uint64_t nowNs, Actions& out) {
  impl_->onSegment(seg, nowNs, out);
}
bool Engine::expire(uint64_t nowNs, Actions& out) { return impl_->expire(nowNs, out); }

}  // namespace ftpalg::core
