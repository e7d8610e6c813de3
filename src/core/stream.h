// One direction of a control connection as a TCP byte stream: what a segment is relative to
// what was seen (new, duplicate, overlap, ahead of a gap, after FIN, mismatch), the flight
// bytes kept until acknowledged, and the mapping of sequence, acknowledgement and SACK numbers
// between the original and the rewritten stream.
#pragma once

#include <array>
#include <cstdint>
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
  // Segment `v` as a packet, its acknowledgement and SACK blocks (numbers of the peer's stream
  // `os`) mapped as they must be forwarded.
  Outgoing outgoing(DirState& os, const PacketView& v, uint64_t handle);
  // An acknowledgement of direction `o`'s stream as it must be forwarded; trims o's flight.
  uint32_t mapAck(DirState& o, uint32_t ack);
  // A SACK edge of direction `o`'s stream as it must be forwarded.
  uint32_t mapSackEdge(DirState& o, uint32_t edge);

 private:
  bool resentBytesDiffer(const DirState& ds, uint32_t segStart, uint32_t oldEnd,
                         std::span<const uint8_t> payload);
  void trimAcked(DirState& o, uint32_t origAck);
  bool makeRoom(DirState& ds, DirBuffer& b, uint32_t newLen);

  const EngineConfig& cfg_;
  DirBufferPool& pool_;
  Counters& counters_;
};

}  // namespace ftpalg::core
