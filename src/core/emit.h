// Emitting packets: forwarding a segment with shifted numbers, and releasing a range of the
// rewritten stream into the packets that carried it. With userspace sequence adjustment the
// bytes are coalesced into as few packets as the MSS allows (the surplus ones are dropped);
// with kernel sequence adjustment every packet keeps its own range and only its payload is
// replaced. Rewritten payloads live in a scratch buffer valid until the next segment.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "actions_out.h"
#include "counters.h"
#include "dir_buffers.h"
#include "stream.h"

namespace ftpalg::core {

// Builds packet actions from the pool's flight bytes and rewrite maps.
class Emitter {
 public:
  Emitter(const EngineConfig& cfg, DirBufferPool& pool, Stream& stream, Counters& counters);

  // Starts a new segment: the scratch buffer is reused from here.
  void begin(std::span<const uint8_t> payload) {
    scratchUsed_ = 0;
    curPayload_ = payload;
  }
  // Forwards the current segment's own payload at original seq `origSeq`, numbers mapped.
  void forwardAsIs(DirState& ds, const Outgoing& o, uint32_t origSeq, Actions& out);
  // Releases original range [from, to) of direction `ds` (peer `os`) into its held packets
  // (withHeld) plus `current`, which carries acknowledgement `outAck`.
  void release(DirState& ds, DirState& os, uint32_t from, uint32_t to, const HeldSeg* current,
               uint32_t outAck, bool withHeld, Actions& out);

 private:
  size_t renderRange(DirState& ds, uint32_t from, uint32_t to, std::span<uint8_t> dst);
  void coalesce(DirState& ds, DirState& os, std::span<const HeldSeg* const> pk,
                const HeldSeg* current, uint32_t outAck, uint32_t outSeq,
                std::span<const uint8_t> bytes, Actions& out);
  uint32_t heldAck(DirState& os, const HeldSeg& h);
  void mapSacks(DirState& os, const HeldSeg& h, PacketAction& a);
  void releaseInPlace(DirState& ds, std::span<const HeldSeg* const> pk, const HeldSeg* current,
                      Actions& out);

  const EngineConfig& cfg_;
  DirBufferPool& pool_;
  Stream& stream_;
  Counters& counters_;
  std::vector<uint8_t> scratch_;
  size_t scratchUsed_ = 0;
  std::span<const uint8_t> curPayload_;  // payload of the segment being processed
};

// Inline: the common case of every segment.
inline void Emitter::forwardAsIs(DirState& ds, const Outgoing& o, uint32_t origSeq, Actions& out) {
  const PacketView& v = *o.view;
  const uint32_t seqOut = cfg_.kernelSeqAdjust ? origSeq : stream_.mapSeq(ds, origSeq);
  const bool same = seqOut == v.seq && o.ack == v.ack &&
                    std::equal(o.sack.begin(), o.sack.begin() + v.sackCount, v.sack.begin());
  PacketAction* a =
      addPacket(out, o.cur.handle, same ? PacketVerdict::Accept : PacketVerdict::Rewrite);
  a->seq = seqOut;
  a->ack = o.ack;
  a->sackCount = v.sackCount;
  a->sack = o.sack;
  a->payload = v.payload;
}

}  // namespace ftpalg::core
