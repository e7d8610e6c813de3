// The per-session records of the engine: plain data, owned by the SessionTable. Bytes that only
// some directions need (flight bytes, partial lines, held packets) live in the DirBufferPool.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/ftp_parser.h"
#include "pairing.h"

namespace ftpalg::core {

inline constexpr uint32_t kNone = 0xFFFFFFFFu;  // "no index" in pools and tables
inline constexpr size_t kMaxHeld = 32;          // held packets per direction
inline constexpr size_t kMaxExpect = 8;         // expectation lifetimes remembered per session

// A held packet: its handle and the acknowledgement data to rewrite when it is released.
struct HeldSeg {
  uint64_t handle = 0;
  uint32_t seq = 0;  // original range [seq, seq + len) of the packet's payload
  uint32_t len = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint8_t sackCount = 0;
  std::array<SackBlock, kMaxSackBlocks> sack{};
};

// Per-direction stream state, always present.
struct DirState {
  uint32_t next = 0;       // next original seq expected (data and FIN processed up to here)
  uint32_t released = 0;   // original bytes before this have been forwarded
  uint32_t acked = 0;      // highest original seq the peer acknowledged
  uint32_t lineStart = 0;  // original seq of the current line's first byte
  uint32_t heldFrom = 0;   // first unreleased byte while holding
  uint32_t buf = kNone;    // DirBuffer index
  int64_t baseDelta = 0;   // splice delta while no buffer is attached
  uint16_t mss = 0;        // MSS the receiver of this direction announced
  uint16_t maxSeen = 0;    // largest payload seen in this direction
  uint16_t gapDrops = 0;
  bool started = false;
  bool discard = false;  // skipping the rest of a bad line
  bool holding = false;
  bool opaque = false;         // TLS: no more parsing
  bool replyFound = false;     // the current multi-line reply already announced
  bool earlySpliced = false;   // the address of the PORT/EPRT in progress is already rewritten
  bool holdAbandoned = false;  // the line starting at abandonedLine is no longer held
  // Splices folded into the base delta once acknowledged end before forgottenEnd: the original
  // bytes before it are gone, so a retransmission reaching back there cannot be rewritten.
  bool forgotten = false;
  // Installed from a snapshot and no new byte seen since: a gap ahead is resynchronised at
  // once (the predecessor may have released bytes it could not record any more).
  bool adopted = false;
  Pending replyTo = Pending::Unknown;
  uint32_t abandonedLine = 0;
  ReplyTracker reply;
  uint32_t forgottenEnd = 0;  // see `forgotten`
};

// How far a session got (Session::progress): only an established one is kept under pressure.
inline constexpr uint8_t kClientSyn = 1;     // the client's SYN was seen
inline constexpr uint8_t kServerSynAck = 2;  // then the server's SYN/ACK
inline constexpr uint8_t kEstablished = 4;   // then the client's ACK, or payload both ways

// One control connection.
struct Session {
  FlowKey key;
  NatBinding nat;
  DirState dir[2];
  uint64_t lastSeenNs = 0;
  std::array<uint64_t, kMaxExpect> expectUntil{};
  PairingRing pairing;
  bool used = false;
  bool closing = false;
  bool epsvAll = false;
  bool natResolved = false;
  uint8_t finMask = 0;
  uint8_t progress = 0;     // kClientSyn | kServerSynAck | kEstablished
  uint8_t payloadMask = 0;  // directions that carried payload (bit per Dir)
  uint8_t stage = 0;        // FtpStage (ftp_stage.h): AwaitGreeting until open() says otherwise
  bool persisted = false;   // reported in Actions::states and not erased since
  // An in-window RST that was not exact arrived at resetPendingNs from resetPendingDir (Dir):
  // the session ends at resetPendingTimeout unless the connection shows it lives on.
  bool resetPending = false;
  uint8_t resetPendingDir = 0;
  // Links of the table's probation list (sessions not established yet, oldest first).
  uint32_t probPrev = kNone;
  uint32_t probNext = kNone;
  uint32_t dataKeys = kNone;  // newest of the session's outstanding announcements (data_keys.h)
  // For the status view only (session_view.h): announcements admitted with a rewritten
  // address, and payload bytes taken per direction. Not in snapshots.
  uint32_t rewrites = 0;
  std::array<uint64_t, 2> bytes{};
  uint64_t resetPendingNs = 0;
  // Live splices (either direction) when Actions::states last looked: a bare acknowledgement
  // that settles them is reported too (the settled offsets go to the conntrack labels).
  bool persistLive = false;

  DirState& at(Dir d) { return dir[static_cast<size_t>(d)]; }
  [[nodiscard]] bool finSeen(Dir d) const {
    return (finMask & (1u << static_cast<unsigned>(d))) != 0;
  }
  [[nodiscard]] bool established() const { return (progress & kEstablished) != 0; }
};

// Records what a segment of direction `d` (TCP `flags`, `len` payload bytes) shows of the
// handshake. True when the session has just become established: the engine saw SYN, SYN/ACK
// and the client's ACK, or (picked up mid-stream) both directions carried payload, which a
// peer that never completed a handshake with the other cannot obtain.
inline bool noteProgress(Session& s, Dir d, uint8_t flags, uint32_t len) {
  if (s.established()) return false;
  const bool syn = (flags & TcpSyn) != 0;
  const bool ack = (flags & TcpAck) != 0;
  bool done = false;
  if (d == Dir::C2S) {
    if (syn && !ack) s.progress |= kClientSyn;
    done = !syn && ack && (s.progress & kServerSynAck) != 0;
  } else if (syn && ack && (s.progress & kClientSyn) != 0) {
    s.progress |= kServerSynAck;
  }
  if (len > 0)
    s.payloadMask = static_cast<uint8_t>(s.payloadMask | (1u << static_cast<unsigned>(d)));
  if (!done && s.payloadMask != 3) return false;
  s.progress |= kEstablished;
  return true;
}

}  // namespace ftpalg::core
