// The engine's implementation class, private to the core: the segment pipeline's state and
// its steps (defined in engine.cc).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "announce.h"
#include "control_lines.h"
#include "counters.h"
#include "dir_buffers.h"
#include "emit.h"
#include "ftpalg/core/engine.h"
#include "session_table.h"
#include "stream.h"

namespace ftpalg::core {

namespace engine_detail {

inline EngineConfig normalized(EngineConfig cfg) {
  cfg.maxExpectationsPerSession = std::min(cfg.maxExpectationsPerSession, kMaxExpect);
  cfg.maxSessions = std::max<size_t>(cfg.maxSessions, 1);
  cfg.maxBufferedDirections = std::max<size_t>(cfg.maxBufferedDirections, 1);
  cfg.maxLine = std::clamp<size_t>(cfg.maxLine, 64, 4096);
  cfg.maxInFlight = std::clamp<size_t>(cfg.maxInFlight, cfg.maxLine * 2, 1 << 20);
  cfg.maxHeldPerDirection = std::clamp<size_t>(cfg.maxHeldPerDirection, 1, kMaxHeld);
  // One direction alone may always hold its own share (then it coalesces).
  cfg.maxHeldPackets = std::max(cfg.maxHeldPackets, cfg.maxHeldPerDirection);
  cfg.maxDataKeys = std::clamp<size_t>(cfg.maxDataKeys, 1, 1 << 20);
  return cfg;
}

}  // namespace engine_detail

// The segment being processed.
struct SegmentIn {
  SegmentIn(const PacketView& view, uint64_t h, uint64_t nowNs) : v(view), handle(h), now(nowNs) {}
  const PacketView& v;
  uint64_t handle;
  uint64_t now;
  Dir d = Dir::C2S;
  FlowKey key;
  size_t hash = 0;  // hashFlowKey(key)
  bool syn = false;
  bool fin = false;
  bool rst = false;
  uint32_t len = 0;
  bool stale = false;  // re-sends bytes of a forgotten splice: forwarded only from the flight
  Outgoing o;
  [[nodiscard]] bool bareSyn() const { return syn && (v.flags & TcpAck) == 0; }
  [[nodiscard]] uint32_t end() const { return v.seq + len; }
};

class EngineImpl {
 public:
  EngineImpl(const EngineConfig& cfg, NatResolver* nat)
      : cfg_(engine_detail::normalized(cfg)),
        nat_(nat),
        sessions_(cfg_.maxSessions),
        pool_(cfg_.maxBufferedDirections, cfg_.maxInFlight, cfg_.maxLine),
        stream_(cfg_, pool_, counters_),
        emitter_(cfg_, pool_, stream_, counters_),
        dataKeys_(cfg_.maxDataKeys),
        announcer_(cfg_, pool_, dataKeys_, counters_),
        lines_(announcer_, counters_) {}

  bool isControl(const PacketView& v) const {
    return isControlPort(v.dport) || isControlPort(v.sport);
  }
  void onSegment(const Segment& seg, uint64_t now, Actions& out);
  // Session snapshots (engine_persist.cc).
  size_t saveSession(const FlowKey& flow, std::span<uint8_t> out);
  SnapshotError adoptSession(std::span<const uint8_t> bytes, uint64_t now);
  bool expire(uint64_t now, Actions& out);
  uint64_t counter(Counter c) const { return counters_.get(c); }
  void setGatewayAddresses(const std::array<IpAddr, 8>& a) { cfg_.gatewayAddresses = a; }
  size_t sessionCount() const { return sessions_.size(); }
  size_t outstandingAnnouncements() const { return dataKeys_.size(); }
  void applyPolicy(const EngineConfig& next);  // engine_policy.cc
  // Status views (session_view.cc).
  void viewSessions(SessionVisitor& visitor, uint64_t now);
  bool viewSession(const FlowKey& flow, uint64_t now, SessionView& out);

 private:
  bool isControlPort(uint16_t p) const {
    if (p == 0) return false;
    return std::find(cfg_.controlPorts.begin(), cfg_.controlPorts.end(), p) !=
           cfg_.controlPorts.end();
  }
  bool classifyFlow(SegmentIn& in) const;
  void steps(Session& s, SegmentIn& in, Actions& out);
  // Reports the segment's session in out.states when a successor needs it (or no longer).
  void notePersist(const SegmentIn& in, Actions& out);
  void addState(Actions& out, const FlowKey& flow, bool erase);
  Session* lookup(const SegmentIn& in, Actions& out);
  Session* open(const SegmentIn& in, Actions& out);
  bool admitsFlags(Session*& s, const SegmentIn& in, Actions& out);
  void resolveNat(Session& s, const SegmentIn& in);
  void startStream(Session& s, const SegmentIn& in);
  void mapPeerNumbers(Session& s, SegmentIn& in);
  bool onControlOnly(Session& s, const SegmentIn& in, Actions& out);
  bool screen(Session& s, SegmentIn& in, Actions& out);
  bool acceptStale(const DirState& ds, SegmentIn& in, const Classified& c, Actions& out);
  void onRst(Session& s, const SegmentIn& in, Actions& out);
  static void clearResetPending(Session& s, const SegmentIn& in, uint32_t peerAckedBefore);
  void onDuplicate(Session& s, const SegmentIn& in, Actions& out);
  bool takeNewBytes(Session& s, const SegmentIn& in, Actions& out);
  void holdOrForward(Session& s, const SegmentIn& in, Actions& out);
  void hold(Session& s, const SegmentIn& in, Actions& out);
  void refuseEvasion(Session& s, const SegmentIn& in, Actions& out);
  void resync(Session& s, Dir d, uint32_t at, uint64_t handle, uint64_t now, Actions& out);
  void endSession(Session& s, Actions& out, bool dropHeld);
  // Resource limits (limits.cc).
  [[nodiscard]] uint64_t timeoutOf(const Session& s) const;
  Session* evictForNew(const SegmentIn& in, Actions& out);
  void tableFull(const SegmentIn& in, Actions& out);
  bool reclaimBuffer(const Session& requester, uint64_t now, Actions& out);
  bool forgetQuietFlight(const Session& requester);
  void limitHolds(const Session& holder, Actions& out);
  void abandonHold(Session& s, Dir d, Actions& out);
  void fillView(Session& s, uint64_t now, SessionView& out);
  void drop(const SegmentIn& in, Counter c, Actions& out) {
    counters_.add(c);
    addPacket(out, in.handle, PacketVerdict::Drop);
  }

  EngineConfig cfg_;
  NatResolver* nat_;
  Counters counters_;
  SessionTable sessions_;
  DirBufferPool pool_;
  Stream stream_;
  Emitter emitter_;
  DataKeys dataKeys_;
  Announcer announcer_;
  ControlLines lines_;
  size_t reclaimHand_ = 0;   // next buffer reclaimBuffer() looks at (clock hand)
  size_t heldEstimate_ = 0;  // held packets, counted up by hold(), exact after a scan
};

}  // namespace ftpalg::core
