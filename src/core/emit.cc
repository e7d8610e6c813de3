#include "emit.h"

#include <algorithm>
#include <cstring>

#include "actions_out.h"
#include "seq_math.h"

namespace ftpalg::core {

namespace {
constexpr uint16_t kDefaultMss = 536;
}  // namespace

Emitter::Emitter(const EngineConfig& cfg, DirBufferPool& pool, Stream& stream, Counters& counters)
    : cfg_(cfg),
      pool_(pool),
      stream_(stream),
      counters_(counters),
      scratch_(2 * (cfg.maxInFlight + 65536)) {}

size_t Emitter::renderRange(DirState& ds, uint32_t from, uint32_t to, std::span<uint8_t> dst) {
  DirBuffer* b = pool_.get(ds);
  if (b == nullptr || !seqLt(from, to)) return 0;
  return b->map.render(from, to, std::span<const uint8_t>(pool_.flight(ds.buf), b->flightLen),
                       b->flightStart, dst);
}

void Emitter::release(DirState& ds, DirState& os, uint32_t from, uint32_t to,
                      const HeldSeg* current, uint32_t outAck, bool withHeld, Actions& out) {
  DirBuffer* b = pool_.get(ds);
  std::span<uint8_t> dst(scratch_.data() + scratchUsed_, scratch_.size() - scratchUsed_);
  size_t total = renderRange(ds, from, to, dst);
  if (total == SIZE_MAX) total = 0;  // cannot happen: ranges are inside the flight buffer
  scratchUsed_ += total;
  const uint32_t outSeq = stream_.mapSeq(ds, from);

  // Packets available, oldest first: the held ones, then the current one.
  std::array<const HeldSeg*, kMaxHeld + 1> pk{};
  size_t k = 0;
  if (b != nullptr && withHeld) {
    for (uint32_t i = 0; i < b->heldCount; ++i) pk[k++] = &b->held[i];
  }
  if (current != nullptr) pk[k++] = current;
  if (k == 0) return;
  const std::span<const HeldSeg* const> packets(pk.data(), k);
  if (cfg_.kernelSeqAdjust) {
    releaseInPlace(ds, packets, current, out);
  } else {
    coalesce(ds, os, packets, current, outAck, outSeq, dst.first(total), out);
  }
  if (b != nullptr && withHeld) {
    b->heldCount = 0;
    ds.holding = false;
  }
}

void Emitter::coalesce(DirState& ds, DirState& os, std::span<const HeldSeg* const> pk,
                       const HeldSeg* current, uint32_t outAck, uint32_t outSeq,
                       std::span<const uint8_t> bytes, Actions& out) {
  const size_t k = pk.size();
  const size_t total = bytes.size();
  const size_t limit = std::max<size_t>(ds.mss != 0 ? ds.mss : kDefaultMss, ds.maxSeen);
  size_t needed = std::max<size_t>(1, (total + limit - 1) / limit);
  size_t emitted = total;
  if (needed > k) {
    counters_.add(Counter::RewriteExceedsMss);
    needed = k;
    emitted = k * limit;
  }
  const size_t firstUsed = k - needed;
  size_t off = 0;
  for (size_t i = 0; i < k; ++i) {
    const HeldSeg& h = *pk[i];
    if (i < firstUsed) {
      addPacket(out, h.handle, PacketVerdict::Drop);
      counters_.add(Counter::Coalesced);
      continue;
    }
    const size_t n = std::min(limit, emitted - off);
    PacketAction* a = addPacket(out, h.handle, PacketVerdict::Rewrite);
    a->seq = outSeq + static_cast<uint32_t>(off);
    a->payload = std::span<const uint8_t>(bytes.data() + off, n);
    off += n;
    a->ack = &h == current ? outAck : heldAck(os, h);
    mapSacks(os, h, *a);
  }
}

// A held packet's own acknowledgement, mapped at the time of its release.
uint32_t Emitter::heldAck(DirState& os, const HeldSeg& h) {
  return (h.flags & TcpAck) != 0 && os.started ? stream_.mapAck(os, h.ack) : h.ack;
}

void Emitter::mapSacks(DirState& os, const HeldSeg& h, PacketAction& a) {
  a.sackCount = h.sackCount;
  for (uint8_t j = 0; j < h.sackCount; ++j) {
    a.sack[j] = os.started ? SackBlock{stream_.mapSackEdge(os, h.sack[j].left),
                                       stream_.mapSackEdge(os, h.sack[j].right)}
                           : h.sack[j];
  }
}

void Emitter::releaseInPlace(DirState& ds, std::span<const HeldSeg* const> pk,
                             const HeldSeg* current, Actions& out) {
  DirBuffer* b = pool_.get(ds);
  for (const HeldSeg* hp : pk) {
    const HeldSeg& h = *hp;
    PacketAction* a = addPacket(out, h.handle, PacketVerdict::Rewrite);
    a->seq = h.seq;
    a->ack = h.ack;
    a->sackCount = h.sackCount;
    a->sack = h.sack;
    std::span<uint8_t> dst(scratch_.data() + scratchUsed_, scratch_.size() - scratchUsed_);
    size_t w = 0;
    uint32_t from = h.seq;
    if (b != nullptr && seqLt(from, b->flightStart) && &h == current) {
      // Acknowledged bytes at the front of a retransmission: before every live splice.
      const auto n = std::min<size_t>(static_cast<size_t>(seqDiff(b->flightStart, from)), h.len);
      std::memcpy(dst.data(), curPayload_.data(), n);
      w = n;
      from = b->flightStart;
    }
    const size_t r = renderRange(ds, from, h.seq + h.len, dst.subspan(w));
    if (r != SIZE_MAX) w += r;
    scratchUsed_ += w;
    a->payload = std::span<const uint8_t>(dst.data(), w);
  }
}

}  // namespace ftpalg::core
