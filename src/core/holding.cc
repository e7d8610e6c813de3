#include "holding.h"

#include <algorithm>
#include <string_view>

#include "actions_out.h"
#include "hold.h"

namespace ftpalg::core {

bool mustHold(Session& s, Dir d, DirBufferPool& pool, Counters& counters, uint32_t& at,
              Actions& out, bool holdReplies) {
  DirState& ds = s.at(d);
  DirBuffer* b = pool.get(ds);
  if (ds.opaque || ds.discard || b == nullptr || b->lineLen == 0) return false;
  // A line whose hold was given up (holdTimeout, maxHeldPackets) is never held again.
  if (ds.holdAbandoned && ds.abandonedLine == ds.lineStart) return false;
  HoldInput in;
  in.dir = d;
  in.prefix = std::string_view(pool.line(ds.buf), b->lineLen);
  in.nat = &s.nat;
  in.reply = &ds.reply;
  in.lineStart = ds.lineStart;
  in.released = ds.released;
  in.earlySpliced = ds.earlySpliced;
  in.holdReplies = holdReplies;
  const HoldDecision h = decideHold(in);
  switch (h.kind) {
    case HoldDecision::Kind::Pass:
      return false;
    case HoldDecision::Kind::HoldFrom:
      at = h.at;
      return true;
    case HoldDecision::Kind::SpliceNow:
      break;
  }
  if (!b->map.add(h.at, h.origLen, std::span<const char>(h.text.data(), h.textLen))) {
    at = h.at;
    return true;  // decided when the line completes (refused there if it cannot be rewritten)
  }
  ds.earlySpliced = true;
  if (h.origLen != h.textLen) out.streamShifted = true;
  counters.add(Counter::Rewrites);
  return false;
}

void park(DirBuffer& b, const HeldSeg& packet, Actions& out, Counters& counters, size_t cap) {
  cap = std::clamp<size_t>(cap, 1, kMaxHeld);
  if (b.heldCount >= cap) {
    addPacket(out, b.held[0].handle, PacketVerdict::Drop);
    counters.add(Counter::Coalesced);
    std::move(b.held.begin() + 1, b.held.begin() + b.heldCount, b.held.begin());
    --b.heldCount;
  }
  b.held[b.heldCount++] = packet;
  counters.add(Counter::HeldSegments);
  addPacket(out, packet.handle, PacketVerdict::Hold);
}

}  // namespace ftpalg::core
