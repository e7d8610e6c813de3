#include "session_snapshot.h"

#include <algorithm>
#include <cstring>

#include "seq_math.h"

namespace ftpalg::core {
namespace {

uint8_t dirFlags(const DirState& ds) {
  uint8_t f = 0;
  f |= ds.started ? kSnapStarted : 0;
  f |= ds.discard ? kSnapDiscard : 0;
  f |= ds.opaque ? kSnapOpaque : 0;
  f |= ds.replyFound ? kSnapReplyFound : 0;
  f |= ds.earlySpliced ? kSnapEarlySpliced : 0;
  f |= ds.holdAbandoned ? kSnapHoldAbandoned : 0;
  f |= ds.forgotten ? kSnapForgotten : 0;
  f |= ds.reply.inMulti ? kSnapReplyInMulti : 0;
  return f;
}

// Folds every record of `d` into its base delta: the splice history is then forgotten up to
// `d.next` (what the stream does when acknowledged splices collapse).
void foldRecords(DirSnapshot& d) {
  for (size_t i = 0; i < d.recordCount; ++i) {
    d.baseDelta += static_cast<int64_t>(d.records[i].newLen) - d.records[i].origLen;
  }
  d.recordCount = 0;
  d.flags = static_cast<uint8_t>(d.flags | kSnapForgotten);
  d.forgottenEnd = d.next;
}

// The buffered part of a direction as of `upTo` (the first byte not released).
void captureBuffer(const DirState& ds, DirBuffer& b, DirBufferPool& pool, uint32_t upTo,
                   DirSnapshot& d) {
  d.baseDelta = b.map.baseDelta();
  bool dropped = false;
  for (size_t i = 0; i < b.map.size(); ++i) {
    const RewriteRecord& rec = b.map.record(i);
    if (!seqLt(rec.origStart, upTo)) {
      dropped = true;  // spliced into bytes still held: spliced again when they come back
      continue;
    }
    d.records[d.recordCount++] = rec;
  }
  if (dropped) d.flags = static_cast<uint8_t>(d.flags & ~kSnapEarlySpliced);
  const int32_t flightLen = seqDiff(upTo, b.flightStart);
  d.flightStart = upTo;
  if (flightLen > 0 && static_cast<uint32_t>(flightLen) <= b.flightLen &&
      static_cast<size_t>(flightLen) <= kMaxSnapFlight) {
    d.flightStart = b.flightStart;
    d.flight = std::span<const uint8_t>(pool.flight(ds.buf), static_cast<size_t>(flightLen));
  } else if (flightLen != 0 && d.recordCount != 0) {
    foldRecords(d);
  }
  const int32_t lineLen = seqDiff(upTo, ds.lineStart);
  if (lineLen > 0 && static_cast<uint32_t>(lineLen) <= b.lineLen && !ds.discard) {
    d.line = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(pool.line(ds.buf)),
                                      static_cast<size_t>(lineLen));
  }
}

// One direction as of its released bytes. Returns false when lines completed in held bytes
// were left out (the pairing they pushed is then not known for sure).
bool captureDir(const DirState& ds, DirBufferPool& pool, DirSnapshot& d) {
  const uint32_t upTo = ds.released;
  d.next = upTo;
  d.acked = seqLe(ds.acked, upTo) ? ds.acked : upTo;
  d.lineStart = ds.lineStart;
  d.baseDelta = ds.baseDelta;
  d.mss = ds.mss;
  d.maxSeen = ds.maxSeen;
  d.flags = dirFlags(ds);
  d.abandonedLine = ds.abandonedLine;
  d.forgottenEnd = ds.forgottenEnd;
  d.replyCode = ds.reply.code;
  d.replyTo = ds.replyTo;
  d.flightStart = upTo;
  const bool linesLeftOut = seqGt(ds.lineStart, upTo);
  if (linesLeftOut) {
    d.lineStart = upTo;
    d.flags = static_cast<uint8_t>(
        d.flags & ~(kSnapReplyFound | kSnapEarlySpliced | kSnapHoldAbandoned | kSnapDiscard));
  }
  if (DirBuffer* b = pool.get(ds)) captureBuffer(ds, *b, pool, upTo, d);
  return !linesLeftOut;
}

void installBuffer(const DirSnapshot& d, DirState& ds, DirBufferPool& pool) {
  DirBuffer* b = pool.acquire(ds);
  if (b == nullptr) {
    // No buffer to spare: keep the delta, forget the history (as if acknowledged).
    DirSnapshot folded = d;
    foldRecords(folded);
    ds.baseDelta = folded.baseDelta;
    ds.forgotten = true;
    ds.forgottenEnd = d.next;
    ds.discard = ds.discard || !d.line.empty();
    return;
  }
  for (size_t i = 0; i < d.recordCount; ++i) {
    const RewriteRecord& rec = d.records[i];
    (void)b->map.add(rec.origStart, rec.origLen,
                     std::span<const char>(rec.text.data(), rec.newLen));
  }
  b->flightStart = d.flight.empty() ? d.next : d.flightStart;
  b->flightLen = static_cast<uint32_t>(d.flight.size());
  if (!d.flight.empty()) std::memcpy(pool.flight(ds.buf), d.flight.data(), d.flight.size());
  b->lineLen = static_cast<uint32_t>(d.line.size());
  if (!d.line.empty()) std::memcpy(pool.line(ds.buf), d.line.data(), d.line.size());
}

void installDir(const DirSnapshot& d, Session& s, Dir dir, DirBufferPool& pool) {
  DirState& ds = s.at(dir);
  ds.next = ds.released = ds.heldFrom = d.next;
  ds.acked = d.acked;
  ds.lineStart = d.lineStart;
  ds.baseDelta = d.baseDelta;
  ds.mss = d.mss;
  ds.maxSeen = d.maxSeen;
  ds.started = (d.flags & kSnapStarted) != 0;
  ds.discard = (d.flags & kSnapDiscard) != 0;
  ds.opaque = (d.flags & kSnapOpaque) != 0;
  ds.replyFound = (d.flags & kSnapReplyFound) != 0;
  ds.earlySpliced = (d.flags & kSnapEarlySpliced) != 0;
  ds.holdAbandoned = (d.flags & kSnapHoldAbandoned) != 0;
  ds.forgotten = (d.flags & kSnapForgotten) != 0;
  ds.reply.inMulti = (d.flags & kSnapReplyInMulti) != 0;
  ds.reply.code = d.replyCode;
  ds.abandonedLine = d.abandonedLine;
  ds.forgottenEnd = d.forgottenEnd;
  ds.replyTo = d.replyTo;
  ds.adopted = true;
  if (d.recordCount != 0 || !d.flight.empty() || !d.line.empty()) {
    installBuffer(d, ds, pool);
    pool.own(ds, s, dir);
  }
  // Part of the line in progress is missing: skip the rest of it rather than misread it.
  if (!ds.discard && static_cast<size_t>(seqDiff(ds.next, ds.lineStart)) != d.line.size()) {
    ds.discard = true;
  }
}

}  // namespace

void capture(const Session& s, DirBufferPool& pool, SessionSnapshot& out) {
  out = SessionSnapshot{};
  out.key = s.key;
  out.nat = s.nat;
  out.expectUntil = s.expectUntil;
  out.pairingKnown = s.pairing.known();
  out.pairingCount = static_cast<uint8_t>(s.pairing.size());
  for (size_t i = 0; i < s.pairing.size(); ++i) out.pairing[i] = s.pairing.at(i);
  out.closing = s.closing;
  out.epsvAll = s.epsvAll;
  out.finMask = s.finMask;
  out.progress = s.progress;
  out.payloadMask = s.payloadMask;
  out.stage = s.stage;
  for (size_t i = 0; i < 2; ++i) {
    if (!captureDir(s.dir[i], pool, out.dir[i])) out.pairingKnown = false;
  }
}

void install(const SessionSnapshot& snap, Session& s, DirBufferPool& pool, uint64_t nowNs,
             uint64_t expectTimeoutNs) {
  s.nat = snap.nat;
  s.natResolved = true;
  for (size_t i = 0; i < kMaxExpect; ++i) {
    s.expectUntil[i] = std::min(snap.expectUntil[i], nowNs + expectTimeoutNs);
  }
  s.pairing.reset(snap.pairingKnown);
  for (size_t i = 0; i < snap.pairingCount; ++i) (void)s.pairing.push(snap.pairing[i]);
  s.closing = snap.closing;
  s.epsvAll = snap.epsvAll;
  s.finMask = snap.finMask;
  s.progress = snap.progress;
  s.payloadMask = snap.payloadMask;
  s.stage = snap.stage;
  s.lastSeenNs = nowNs;
  s.persisted = true;
  installDir(snap.dir[0], s, Dir::C2S, pool);
  installDir(snap.dir[1], s, Dir::S2C, pool);
}

bool needsStoring(const Session& s, DirBufferPool& pool, uint64_t nowNs) {
  for (const DirState& ds : s.dir) {
    const DirBuffer* b = pool.get(ds);
    if (b != nullptr ? b->map.baseDelta() != 0 || b->map.size() != 0 : ds.baseDelta != 0) {
      return true;
    }
  }
  return std::any_of(s.expectUntil.begin(), s.expectUntil.end(),
                     [nowNs](uint64_t until) { return until > nowNs; });
}

}  // namespace ftpalg::core
