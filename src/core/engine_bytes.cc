// The engine's steps over a segment's bytes: screening it against its stream (gaps,
// retransmissions, data after FIN), taking new bytes into line assembly, and holding the packet
// or forwarding what may pass.
#include "actions_out.h"
#include "engine_impl.h"
#include "holding.h"
#include "line_assembler.h"
#include "seq_math.h"

namespace ftpalg::core {

// Refuses or resolves what is not new data. True when the segment carries new bytes or a FIN.
bool EngineImpl::screen(Session& s, SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  Classified c = stream_.classify(ds, s.finSeen(in.d), in.v.seq, in.v.payload, in.fin);
  if (c.cls == SegmentClass::AheadOfGap) {
    // Never passed uninspected. Drop (TCP retransmits what is missing) unless the gap is
    // declared permanent.
    if (!cfg_.resyncOnGap && ++ds.gapDrops <= cfg_.gapDropLimit) {
      drop(in, Counter::OutOfOrderDropped, out);
      return false;
    }
    resync(s, in.d, in.v.seq, in.handle, in.now, out);
    c = stream_.classify(ds, s.finSeen(in.d), in.v.seq, in.v.payload, in.fin);
  }
  if (c.cls != SegmentClass::AfterFin) ds.gapDrops = 0;
  if (c.resends) counters_.add(Counter::Retransmissions);
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
      seqLe(segEnd, b->flightStart) || !b->map.touches(segStart, segEnd)) {
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
    switch (stream_.storeNew(ds, newData, newLen)) {
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
  }
  return true;
}

void EngineImpl::holdOrForward(Session& s, const SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  const uint32_t segEnd = in.end();
  uint32_t holdAt = 0;
  if (!in.fin && pool_.get(ds) != nullptr && mustHold(s, in.d, pool_, counters_, holdAt) &&
      seqLt(holdAt, segEnd)) {
    hold(s, in, out);
    return;
  }
  const DirBuffer* b = pool_.get(ds);
  if (!ds.holding && (b == nullptr || !b->map.touches(in.v.seq, segEnd))) {
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
  }
  if (b.heldCount == kMaxHeld && cfg_.kernelSeqAdjust) {
    // Bytes cannot move between packets here: give up holding this line. If it completes as
    // an announcement, it is refused (partially_released), never half-rewritten.
    emitter_.release(ds, s.at(opposite(in.d)), ds.heldFrom, in.end(), &in.o.cur, in.o.ack, true,
                     out);
    ds.released = in.end();
    counters_.add(Counter::BufferOverflow);
    return;
  }
  park(b, in.o.cur, out, counters_);
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

}  // namespace ftpalg::core
