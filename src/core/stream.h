// One direction of a control connection as a TCP byte stream: what a segment is relative to
// what was seen (new, duplicate, overlap, ahead of a gap, after FIN, mismatch), the flight
// bytes kept until acknowledged, and the mapping of sequence, acknowledgement and SACK numbers
// between the original and the rewritten stream.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "counters.h"
#include "dir_buffers.h"
#include "seq_math.h"
#include "session.h"

namespace ftpalg::core {

// What a segment with payload or FIN is, judged against its direction's state.
enum class SegmentClass : uint8_t {
  AfterFin,        // data at or after this direction's FIN: refused
  AheadOfGap,      // starts beyond the next expected byte
  Mismatch,        // re-sent bytes differ from what was inspected: refused
  HeldRetransmit,  // only bytes that are being held: the held packets carry them
  Duplicate,       // nothing new: forwarded exactly as the first time
  New,             // carries bytes (or a FIN) not seen before
};

// The classification and whether the segment re-sends bytes (counted as a retransmission).
struct Classified {
  SegmentClass cls = SegmentClass::New;
  bool resends = false;
};

// Why new bytes could not be stored.
enum class StoreResult : uint8_t { Stored, PoolExhausted, RewriteTableFull, BufferOverflow };

// The segment being processed and its acknowledgement data as they must be forwarded.
struct Outgoing {
  const PacketView* view = nullptr;
  HeldSeg cur;  // the segment as a (potentially held) packet
  uint32_t ack = 0;
  std::array<SackBlock, kMaxSackBlocks> sack{};
};

// Stream rules over the DirStates of a session and the shared buffer pool.
class Stream {
 public:
  Stream(const EngineConfig& cfg, DirBufferPool& pool, Counters& counters)
      : cfg_(cfg), pool_(pool), counters_(counters) {}

  // Classifies a segment [seq, seq + payload.size()) with `fin` for direction state `ds`.
  Classified classify(const DirState& ds, bool finSeen, uint32_t seq,
                      std::span<const uint8_t> payload, bool fin);

  // Stores `len` new bytes at ds.next in the direction's flight buffer (borrowing one), making
  // room by evicting acknowledged-or-released bytes when configured to.
  StoreResult storeNew(DirState& ds, const uint8_t* data, uint32_t len);

  // Original seq -> seq in the stream as forwarded.
  uint32_t mapSeq(DirState& d, uint32_t orig) {
    DirBuffer* b = pool_.get(d);
    return b ? b->map.toRewritten(orig) : seqAdd(orig, d.baseDelta);
  }
  // Fills `o`: segment `v` as a packet, its acknowledgement and SACK blocks (numbers of the peer's
  // stream `os`) mapped as they must be forwarded.
  void outgoing(DirState& os, const PacketView& v, uint64_t handle, Outgoing& o);
  // An acknowledgement of direction `o`'s stream as it must be forwarded; trims o's flight.
  uint32_t mapAck(DirState& o, uint32_t ack);
  // A SACK edge of direction `o`'s stream as it must be forwarded.
  uint32_t mapSackEdge(DirState& o, uint32_t edge);
  // True when a segment at `seq` re-sends bytes of a splice already folded away: such bytes
  // can no longer be rewritten from history, so they must not leave as they came.
  static bool resendsForgotten(const DirState& ds, uint32_t seq) {
    return ds.forgotten && seqLt(seq, ds.forgottenEnd);
  }

 private:
  bool resentBytesDiffer(const DirState& ds, uint32_t segStart, uint32_t oldEnd,
                         std::span<const uint8_t> payload);
  void trimAcked(DirState& o, uint32_t origAck) {
    // Only what was released can have been acknowledged; ignore acknowledgements of data that
    // was never sent.
    if (seqGt(origAck, o.released) || seqLe(origAck, o.acked)) return;
    trimFlight(o, origAck);
  }
  void trimFlight(DirState& o, uint32_t origAck);
  // Folds the splices ending by `upTo` into the base delta and remembers where they ended.
  static void collapse(DirState& ds, DirBuffer& b, uint32_t upTo);
  bool makeRoom(DirState& ds, DirBuffer& b, uint32_t newLen);

  const EngineConfig& cfg_;
  DirBufferPool& pool_;
  Counters& counters_;
};

// Inline: every segment maps its acknowledgement and SACK numbers.

inline void Stream::outgoing(DirState& os, const PacketView& v, uint64_t handle, Outgoing& o) {
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
}

inline uint32_t Stream::mapAck(DirState& o, uint32_t ack) {
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

inline uint32_t Stream::mapSackEdge(DirState& o, uint32_t edge) {
  if (cfg_.kernelSeqAdjust) return edge;
  if (cfg_.ackSpace == AckSpace::Rewritten) {
    DirBuffer* b = pool_.get(o);
    return b ? b->map.toOriginal(edge) : seqAdd(edge, -o.baseDelta);
  }
  return mapSeq(o, seqGt(edge, o.released) ? o.released : edge);
}

inline Classified Stream::classify(const DirState& ds, bool finSeen, uint32_t seq,
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

inline StoreResult Stream::storeNew(DirState& ds, const uint8_t* data, uint32_t len) {
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

}  // namespace ftpalg::core
