#include "stream.h"

#include <algorithm>
#include <cstring>

#include "seq_math.h"

namespace ftpalg::core {

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
  collapse(ds, b, b.flightStart);
  if (seqLt(ds.acked, b.flightStart)) ds.acked = b.flightStart;
  return true;
}

void Stream::trimFlight(DirState& o, uint32_t origAck) {
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
  collapse(o, *b, origAck);
  pool_.releaseIfIdle(o);
}

void Stream::collapse(DirState& ds, DirBuffer& b, uint32_t upTo) {
  uint32_t end = 0;
  if (b.map.collapseUpTo(upTo, &end)) {
    ds.forgotten = true;
    ds.forgottenEnd = end;
  } else if (ds.forgotten && seqDiff(upTo, ds.forgottenEnd) > (1 << 30)) {
    ds.forgotten = false;  // no retransmission reaches back a gigabyte
  }
}

}  // namespace ftpalg::core
