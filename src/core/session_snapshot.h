// What a successor process needs of one session, as plain values: the stream positions, splice
// history and line in progress of each direction as of the bytes already released, and the
// session's pairing, stage, NAT binding and outstanding expectations. capture() takes it from a
// live session, install() builds a session from it; session_codec.h turns it into bytes.
// Flight and line bytes are views: into the engine's pool (capture) or into the decoded input
// (decode), valid as long as that storage.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "dir_buffers.h"
#include "ftpalg/core/engine.h"
#include "pairing.h"
#include "rewrite_map.h"
#include "session.h"

namespace ftpalg::core {

// DirSnapshot::flags bits.
inline constexpr uint8_t kSnapStarted = 1;
inline constexpr uint8_t kSnapDiscard = 2;
inline constexpr uint8_t kSnapOpaque = 4;
inline constexpr uint8_t kSnapReplyFound = 8;
inline constexpr uint8_t kSnapEarlySpliced = 16;
inline constexpr uint8_t kSnapHoldAbandoned = 32;
inline constexpr uint8_t kSnapForgotten = 64;
inline constexpr uint8_t kSnapReplyInMulti = 128;
// Flight bytes stored per direction at most; a longer flight is left out (its splices folded,
// retransmissions reaching back are then handled as re-sent bytes of a forgotten splice).
inline constexpr size_t kMaxSnapFlight = 16384;

// One direction of a session snapshot. Positions are original sequence numbers.
struct DirSnapshot {
  uint32_t next = 0;  // the first byte not released: the successor expects it next
  uint32_t acked = 0;
  uint32_t lineStart = 0;
  int64_t baseDelta = 0;
  uint16_t mss = 0;
  uint16_t maxSeen = 0;
  uint8_t flags = 0;  // kSnap*
  uint32_t abandonedLine = 0;
  uint32_t forgottenEnd = 0;
  uint16_t replyCode = 0;
  Pending replyTo = Pending::Unknown;
  uint8_t recordCount = 0;
  std::array<RewriteRecord, RewriteMap::kMaxRecords> records{};
  uint32_t flightStart = 0;  // flight covers [flightStart, next)
  std::span<const uint8_t> flight;
  std::span<const uint8_t> line;  // the line in progress: [lineStart, next)
};

// One session snapshot.
struct SessionSnapshot {
  FlowKey key;
  NatBinding nat;
  std::array<uint64_t, kMaxExpect> expectUntil{};
  bool pairingKnown = true;
  uint8_t pairingCount = 0;
  std::array<Pending, PairingRing::kCapacity> pairing{};
  bool closing = false;
  bool epsvAll = false;
  uint8_t finMask = 0;
  uint8_t progress = 0;
  uint8_t payloadMask = 0;
  uint8_t stage = 0;
  std::array<DirSnapshot, 2> dir{};
};

// The snapshot of live session `s` (its buffers in `pool`).
void capture(const Session& s, DirBufferPool& pool, SessionSnapshot& out);
// Fills the fresh session `s` from `snap` (already validated), borrowing buffers from `pool`;
// a direction that gets none keeps only its delta (its splices folded, as if forgotten).
void install(const SessionSnapshot& snap, Session& s, DirBufferPool& pool, uint64_t nowNs,
             uint64_t expectTimeoutNs);
// True when `s` must be stored for a successor: a length-changing rewrite, live splices or
// outstanding announcements at `nowNs`.
bool needsStoring(const Session& s, DirBufferPool& pool, uint64_t nowNs);

}  // namespace ftpalg::core
