// The engine: one segment at a time through a short pipeline of named steps (find the session,
// map the peer's numbers, screen the segment against its stream, assemble and handle lines,
// hold or forward). Each step's idea lives in its own file; see docs/design.md for the
// decisions. Every buffer is allocated in the constructor.
#include "ftpalg/core/engine.h"

#include <algorithm>

#include "actions_out.h"
#include "engine_impl.h"

namespace ftpalg::core {

// --- the segment pipeline ------------------------------------------------------------------

void EngineImpl::onSegment(const Segment& seg, uint64_t now, Actions& out) {
  SegmentIn in{*seg.view, seg.handle, now};
  emitter_.begin(in.v.payload);
  counters_.add(Counter::Segments);
  if (!classifyFlow(in)) {
    counters_.add(Counter::NonControl);
    addPacket(out, seg.handle, PacketVerdict::Accept);
    return;
  }
  Session* s = lookup(in, out);
  if (s == nullptr) return;
  s->lastSeenNs = now;
  resolveNat(*s, in);
  startStream(*s, in);
  mapPeerNumbers(*s, in);
  if (onControlOnly(*s, in, out)) return;
  if (!screen(*s, in, out)) return;
  if (!takeNewBytes(*s, in, out)) return;
  holdOrForward(*s, in, out);
}

bool EngineImpl::classifyFlow(SegmentIn& in) const {
  const PacketView& v = in.v;
  if (isControlPort(v.dport)) {
    in.d = Dir::C2S;
    in.key = FlowKey{Endpoint{v.src, v.sport}, Endpoint{v.dst, v.dport}};
  } else if (isControlPort(v.sport)) {
    in.d = Dir::S2C;
    in.key = FlowKey{Endpoint{v.dst, v.dport}, Endpoint{v.src, v.sport}};
  } else {
    return false;
  }
  in.syn = (v.flags & TcpSyn) != 0;
  in.fin = (v.flags & TcpFin) != 0;
  in.rst = (v.flags & TcpRst) != 0;
  in.len = static_cast<uint32_t>(v.payload.size());
  return true;
}

// The session of the segment, created when the segment may start one; nullptr when the
// segment has been dealt with already.
Session* EngineImpl::lookup(const SegmentIn& in, Actions& out) {
  Session* s = sessions_.find(in.key);
  if (s != nullptr && in.bareSyn() && in.d == Dir::C2S && s->dir[0].started &&
      s->dir[0].next != in.v.seq + 1) {
    // A new connection on the same tuple: the old session is over.
    endSession(*s, out, true);
    s = nullptr;
  }
  if (s != nullptr) return s;
  if (in.rst || (!in.syn && in.len == 0)) {
    addPacket(out, in.handle, PacketVerdict::Accept);
    return nullptr;
  }
  return open(in, out);
}

Session* EngineImpl::open(const SegmentIn& in, Actions& out) {
  Session* s = sessions_.create(in.key, in.now);
  if (s == nullptr) {
    counters_.add(Counter::SessionTableFull);
    addPacket(out, in.handle, PacketVerdict::Accept);
    if (!in.syn || in.d != Dir::C2S) return nullptr;
    if (Event* e = addEvent(out, counters_)) {
      e->tsNs = in.now;
      e->flow = in.key;
      e->dir = in.d;
      e->kind = EventKind::Desync;
      e->verdict = Verdict::Pass;
      e->reason = Reason::SessionTableFull;
      e->handle = in.handle;
    }
    return nullptr;
  }
  counters_.add(Counter::Sessions);
  if (in.syn) {
    s->pairing.startAtGreeting();
  } else {
    s->pairing.forget();
    counters_.add(Counter::MidstreamPickup);
  }
  return s;
}

void EngineImpl::resolveNat(Session& s, const SegmentIn& in) {
  if (s.natResolved || in.bareSyn()) return;
  // Asked once, after the client's SYN: an inline gateway sees that SYN before conntrack has
  // confirmed the connection and NAT has chosen its addresses.
  s.natResolved = true;
  NatBinding b;
  if (nat_ != nullptr && nat_->resolve(in.key, b)) s.nat = b;
}

void EngineImpl::startStream(Session& s, const SegmentIn& in) {
  DirState& ds = s.at(in.d);
  if (in.syn) {
    if (!ds.started) {
      ds.started = true;
      ds.next = in.v.seq + 1;
      ds.released = ds.acked = ds.lineStart = ds.next;
    }
    if (in.v.mss != 0) s.at(opposite(in.d)).mss = in.v.mss;
  }
}

// Acknowledgements and SACK blocks refer to the other direction's stream.
void EngineImpl::mapPeerNumbers(Session& s, SegmentIn& in) {
  in.o = stream_.outgoing(s.at(opposite(in.d)), in.v, in.handle);
}

// SYN, RST and bare acknowledgements carry no stream bytes. True when the segment is done.
bool EngineImpl::onControlOnly(Session& s, const SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  if (in.syn) {
    emitter_.forwardAsIs(ds, in.o, in.v.seq, out);
    return true;
  }
  if (!ds.started) {
    // Mid-stream pickup: the first segment seen starts the stream (assumed at a line start).
    ds.started = true;
    ds.next = ds.released = ds.acked = ds.lineStart = in.v.seq;
  }
  if (in.rst) {
    emitter_.forwardAsIs(ds, in.o, in.v.seq, out);
    endSession(s, out, true);
    return true;
  }
  if (in.len == 0 && !in.fin) {
    emitter_.forwardAsIs(ds, in.o, in.v.seq, out);
    pool_.releaseIfIdle(ds);
    pool_.releaseIfIdle(s.at(opposite(in.d)));
    return true;
  }
  return false;
}

void EngineImpl::endSession(Session& s, Actions& out, bool dropHeld) {
  for (DirState& d : s.dir) {
    DirBuffer* b = pool_.get(d);
    if (b != nullptr && dropHeld) {
      for (uint32_t i = 0; i < b->heldCount; ++i) {
        addPacket(out, b->held[i].handle, PacketVerdict::Drop);
        counters_.add(Counter::HeldDroppedAtEnd);
      }
    }
    pool_.free(d);
  }
  sessions_.erase(s);
  counters_.add(Counter::SessionsEnded);
}

bool EngineImpl::expire(uint64_t now, Actions& out) {
  const bool done = sessions_.forEach([&](Session& s) {
    const uint64_t limit = s.closing ? cfg_.closeTimeoutNs : cfg_.idleTimeoutNs;
    if (now < s.lastSeenNs || now - s.lastSeenNs < limit) return true;
    if (out.packetCount + 2 * kMaxHeld > Actions::kMaxPackets) return false;
    counters_.add(Counter::Expired);
    endSession(s, out, true);
    return true;
  });
  return !done;
}

// --- public surface ------------------------------------------------------------------------

Engine::Engine(const EngineConfig& config, NatResolver* nat)
    : impl_(std::make_unique<EngineImpl>(config, nat)) {}
Engine::~Engine() = default;
bool Engine::isControl(const PacketView& view) const { return impl_->isControl(view); }
void Engine::onSegment(const Segment& seg, uint64_t nowNs, Actions& out) {
  impl_->onSegment(seg, nowNs, out);
}
bool Engine::expire(uint64_t nowNs, Actions& out) { return impl_->expire(nowNs, out); }
uint64_t Engine::counter(Counter c) const { return impl_->counter(c); }
size_t Engine::sessionCount() const { return impl_->sessionCount(); }
size_t Engine::sessionStateBytes() { return sizeof(Session); }

}  // namespace ftpalg::core
