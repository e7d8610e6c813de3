#include "stream.h"

#include <algorithm>
#include <cstring>

#include "seq_math.h"

namespace ftpalg::core {

Classified Stream::classify(const DirState& ds, bool finSeen, uint32_t seq,
                            std::span<const uint8_t> payload, bool fin) {
  const auto len = static_cast<uint32_t>(payload.size());
  const uint32_t segEnd = seq + len;
  Classified r;
  // Data at or after this direction's FIN (ds.next - 1): the FIN takes a sequence number but
  // no byte of the flight buffer, so such bytes can never be tracked in place. A peer that
  // closed sends nothing more: refuse it like a retransmission with different content.
  if (finSeen && len > 0 && seqGe(segEnd, ds.next)) {
    r.cls = SegmentClass::AfterFin;
    return r;
  }
  if (seqGt(seq, ds.next)) {
    r.cls = SegmentClass::AheadOfGap;
    return r;
  }
  // Old bytes (a retransmission, entirely or in part) must equal what was inspected.
  const uint32_t oldEnd = seqMin(segEnd, ds.next);
  if (seqLt(seq, oldEnd)) {
    r.resends = true;
    if (resentBytesDiffer(ds, seq, oldEnd, payload)) {
      r.cls = SegmentClass::Mismatch;
      return r;
    }
    if (ds.holding && seqGt(oldEnd, ds.heldFrom) && seqLe(segEnd, ds.next) && !fin) {
      r.cls = SegmentClass::HeldRetransmit;
      return r;
    }
  }
  const bool hasNew = seqGt(segEnd, ds.next) || (fin && seqGe(segEnd, ds.next));
  r.cls = hasNew ? SegmentClass::New : SegmentClass::Duplicate;
  return r;
}

bool Stream::resentBytesDiffer(const DirState& ds, uint32_t segStart, uint32_t oldEnd,
                               std::span<const uint8_t> payload) {
  const DirBuffer* b = pool_.get(ds);
  if (b == nullptr) return false;
  const uint32_t from = seqMax(segStart, b->flightStart);
  const uint32_t to = seqMin(oldEnd, b->flightStart + b->flightLen);
  if (!seqLt(from, to)) return false;
  const auto off = static_cast<size_t>(seqDiff(from, b->flightStart));
  const auto n = static_cast<size_t>(seqDiff(to, from));
  const auto poff = static_cast<size_t>(seqDiff(from, segStart));
  return std::memcmp(pool_.flight(ds.buf) + off, payload.data() + poff, n) != 0;
}

StoreResult Stream::storeNew(DirState& ds, const uint8_t* data, uint32_t len) {
  DirBuffer* b = pool_.acquire(ds);
  if (b == nullptr) return StoreResult::PoolExhausted;
  if (b->map.full()) return StoreResult::RewriteTableFull;
  if (b->flightLen + len > pool_.maxInFlight() && !makeRoom(ds, *b, len)) {
    return StoreResult::BufferOverflow;
  }
  std::memcpy(pool_.flight(ds.buf) + b->flightLen, data, len);
  b->flightLen += len;
  return StoreResult::Stored;
}

bool Stream::makeRoom(DirState& ds, DirBuffer& b, uint32_t newLen) {
  const uint32_t keepFrom = ds.holding ? ds.heldFrom : ds.released;
  const auto evictable = static_cast<uint32_t>(seqDiff(keepFrom, b.flightStart));
  const uint32_t need = b.flightLen + newLen - static_cast<uint32_t>(pool_.maxInFlight());
  if (!cfg_.evictWhenFull || need > evictable) return false;
  // Forget the oldest unacknowledged bytes; splices over them are folded into the base.
  counters_.add(Counter::InFlightEvicted);
  uint8_t* f = pool_.flight(ds.buf);
  std::memmove(f, f + need, b.flightLen - need);
  b.flightLen -= need;
  b.flightStart += need;
  b.map.collapseUpTo(b.flightStart);
  if (seqLt(ds.acked, b.flightStart)) ds.acked = b.flightStart;
  return true;
}

void Stream::trimAcked(DirState& o, uint32_t origAck) {
  // Only what was released can have been acknowledged; ignore acknowledgements of data that
  // was never sent.
  if (seqGt(origAck, o.released) || seqLe(origAck, o.acked)) return;
  o.acked = origAck;
  DirBuffer* b = pool_.get(o);
  if (b == nullptr) return;
  if (seqGt(origAck, b->flightStart)) {
    const auto n =
        std::min<uint32_t>(static_cast<uint32_t>(seqDiff(origAck, b->flightStart)), b->flightLen);
    uint8_t* f = pool_.flight(o.buf);
    std::memmove(f, f + n, b->flightLen - n);
    b->flightLen -= n;
    b->flightStart += n;
  }
  b->map.collapseUpTo(origAck);
  pool_.releaseIfIdle(o);
}

Outgoing Stream::outgoing(DirState& os, const PacketView& v, uint64_t handle) {
  Outgoing o;
  o.view = &v;
  o.cur.handle = handle;
  o.cur.seq = v.seq;
  o.cur.len = static_cast<uint32_t>(v.payload.size());
  o.cur.ack = v.ack;
  o.cur.flags = v.flags;
  o.cur.sackCount = v.sackCount;
  for (uint8_t j = 0; j < v.sackCount; ++j) o.cur.sack[j] = v.sack[j];
  o.ack = (v.flags & TcpAck) != 0 && os.started ? mapAck(os, v.ack) : v.ack;
  for (uint8_t j = 0; j < v.sackCount; ++j) {
    o.sack[j] = os.started
                    ? SackBlock{mapSackEdge(os, v.sack[j].left), mapSackEdge(os, v.sack[j].right)}
                    : v.sack[j];
  }
  return o;
}

uint32_t Stream::mapAck(DirState& o, uint32_t ack) {
  DirBuffer* b = pool_.get(o);
  if (cfg_.ackSpace == AckSpace::Rewritten || cfg_.kernelSeqAdjust) {
    const uint32_t orig = b ? b->map.toOriginal(ack) : seqAdd(ack, -o.baseDelta);
    trimAcked(o, orig);
    return cfg_.kernelSeqAdjust ? ack : orig;  // the kernel maps it back itself
  }
  // Replay: the capture's acknowledgements are in original space. Never acknowledge bytes
  // the output has not carried yet (held ones).
  const uint32_t clamped = seqGt(ack, o.released) ? o.released : ack;
  const uint32_t mapped = mapSeq(o, clamped);
  trimAcked(o, clamped);
  return mapped;
}

uint32_t Stream::mapSackEdge(DirState& o, uint32_t edge) {
  if (cfg_.kernelSeqAdjust) return edge;
  if (cfg_.ackSpace == AckSpace::Rewritten) {
    DirBuffer* b = pool_.get(o);
    return b ? b->map.toOriginal(edge) : seqAdd(edge, -o.baseDelta);
  }
  return mapSeq(o, seqGt(edge, o.released) ? o.released : edge);
}

}  // namespace ftpalg::core
