// The engine: session table, per-direction stream tracking (reassembly, retransmission checks,
// holding of partial announcement lines), command/reply pairing, policy and NAT rewriting.
// See docs/design.md for the decisions; every buffer is allocated in the constructor.
#include "ftpalg/core/engine.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "policy.h"
#include "rewrite_map.h"
#include "seq_math.h"

namespace ftpalg::core {

namespace {

constexpr uint32_t kNone = 0xFFFFFFFFu;
constexpr size_t kMaxHeld = 32;
constexpr size_t kPairRing = 16;
constexpr size_t kMaxExpect = 8;
constexpr uint16_t kDefaultMss = 536;

// What a reply answers: the pending command at the front of the pairing ring.
enum class Pending : uint8_t { Other, Greeting, Pasv, Epsv, Lpsv, AuthTls, Unknown };

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

// Pooled per-direction buffer: only directions with bytes in flight, a partial line, held
// packets or live splices own one, so an idle session costs only its Session slot.
struct DirBuffer {
  RewriteMap map;
  uint32_t flightStart = 0;  // original seq of flight[0]
  uint32_t flightLen = 0;
  uint32_t lineLen = 0;
  uint32_t heldCount = 0;
  uint32_t nextFree = kNone;
  std::array<HeldSeg, kMaxHeld> held{};
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
  bool discard = false;    // skipping the rest of a bad line
  bool holding = false;
  bool opaque = false;     // TLS: no more parsing
  bool replyFound = false; // the current multi-line reply already announced
  bool earlySpliced = false;  // the address of the PORT/EPRT in progress is already rewritten
  ReplyTracker reply;
  Pending replyTo = Pending::Unknown;
};

struct Session {
  FlowKey key;
  NatBinding nat;
  DirState dir[2];
  uint64_t lastSeenNs = 0;
  std::array<uint64_t, kMaxExpect> expectUntil{};
  std::array<Pending, kPairRing> ring{};
  uint8_t ringHead = 0;
  uint8_t ringCount = 0;
  bool used = false;
  bool closing = false;
  bool epsvAll = false;
  bool pairingKnown = true;
  bool natResolved = false;
  uint8_t finMask = 0;
};

size_t hashKey(const FlowKey& k) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  mix(k.client.addr.bytes.data(), k.client.addr.size());
  mix(k.server.addr.bytes.data(), k.server.addr.size());
  const uint8_t ports[4] = {static_cast<uint8_t>(k.client.port >> 8),
                            static_cast<uint8_t>(k.client.port),
                            static_cast<uint8_t>(k.server.port >> 8),
                            static_cast<uint8_t>(k.server.port)};
  mix(ports, 4);
  return static_cast<size_t>(h ^ (h >> 29));
}

size_t roundPow2(size_t n) {
  size_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

class EngineImpl {
 public:
  EngineImpl(const EngineConfig& cfg, NatResolver* nat) : cfg_(cfg), nat_(nat) {
    cfg_.maxExpectationsPerSession = std::min(cfg_.maxExpectationsPerSession, kMaxExpect);
    cfg_.maxSessions = std::max<size_t>(cfg_.maxSessions, 1);
    cfg_.maxBufferedDirections = std::max<size_t>(cfg_.maxBufferedDirections, 1);
    cfg_.maxLine = std::clamp<size_t>(cfg_.maxLine, 64, 4096);
    cfg_.maxInFlight = std::clamp<size_t>(cfg_.maxInFlight, cfg_.maxLine * 2, 1 << 20);
    sessions_.resize(cfg_.maxSessions);
    index_.assign(roundPow2(cfg_.maxSessions * 2), kNone);
    bufs_.resize(cfg_.maxBufferedDirections);
    flight_.resize(cfg_.maxBufferedDirections * cfg_.maxInFlight);
    lines_.resize(cfg_.maxBufferedDirections * (cfg_.maxLine + 2));
    for (size_t i = 0; i < bufs_.size(); ++i) {
      bufs_[i].nextFree = i + 1 < bufs_.size() ? static_cast<uint32_t>(i + 1) : kNone;
    }
    freeBuf_ = 0;
    scratch_.resize(2 * (cfg_.maxInFlight + 65536));
  }

  bool isControl(const PacketView& v) const { return isControlPort(v.dport) || isControlPort(v.sport); }
  void onSegment(const Segment& seg, uint64_t now, Actions& out);
  bool expire(uint64_t now, Actions& out);
  uint64_t counter(Counter c) const { return counters_[static_cast<size_t>(c)]; }
  size_t sessionCount() const { return liveSessions_; }

 private:
  // --- plumbing -------------------------------------------------------------------------
  bool isControlPort(uint16_t p) const {
    if (p == 0) return false;
    return std::find(cfg_.controlPorts.begin(), cfg_.controlPorts.end(), p) !=
           cfg_.controlPorts.end();
  }
  void count(Counter c, uint64_t n = 1) { counters_[static_cast<size_t>(c)] += n; }

  PacketAction* addPacket(Actions& out, uint64_t handle, PacketVerdict v) {
    // Capacity: one call releases at most kMaxHeld held packets plus the current one, twice
    // (gap resync), which Actions::kMaxPackets covers.
    PacketAction& a = out.packets[out.packetCount++];
    a = PacketAction{};
    a.handle = handle;
    a.verdict = v;
    return &a;
  }
  Event* addEvent(Actions& out) {
    if (out.eventCount == Actions::kMaxEvents) {
      count(Counter::EventsSuppressed);
      return nullptr;
    }
    Event& e = out.events[out.eventCount++];
    e = Event{};
    return &e;
  }

  Session* find(const FlowKey& k);
  Session* create(const FlowKey& k, uint64_t now);
  void removeFromIndex(size_t slot);
  void endSession(Session& s, Actions& out, bool dropHeld);

  DirBuffer* buffer(DirState& d) { return d.buf == kNone ? nullptr : &bufs_[d.buf]; }
  DirBuffer* acquire(DirState& d);
  void maybeRelease(DirState& d);
  uint8_t* flightData(uint32_t b) { return flight_.data() + static_cast<size_t>(b) * cfg_.maxInFlight; }
  char* lineData(uint32_t b) { return lines_.data() + static_cast<size_t>(b) * (cfg_.maxLine + 2); }

  uint32_t mapSeq(DirState& d, uint32_t orig) {
    DirBuffer* b = buffer(d);
    return b ? b->map.toRewritten(orig) : seqAdd(orig, d.baseDelta);
  }
  uint32_t mapAck(DirState& o, uint32_t ack);
  uint32_t mapSackEdge(DirState& o, uint32_t edge) {
    if (cfg_.kernelSeqAdjust) return edge;
    if (cfg_.ackSpace == AckSpace::Rewritten) {
      DirBuffer* b = buffer(o);
      return b ? b->map.toOriginal(edge) : seqAdd(edge, -o.baseDelta);
    }
    return mapSeq(o, seqGt(edge, o.released) ? o.released : edge);
  }
  void trimAcked(DirState& o, uint32_t origAck);

  // --- stream ---------------------------------------------------------------------------
  void processNewBytes(Session& s, Dir d, const uint8_t* data, uint32_t len, uint32_t seq,
                       uint64_t handle, uint64_t now, Actions& out);
  void handleLine(Session& s, Dir d, std::string_view line, uint32_t lineSeq, uint64_t handle,
                  uint64_t now, Actions& out);
  void handleBadLine(Session& s, Dir d, std::string_view line, ParseError err, uint64_t handle,
                     uint64_t now, Actions& out);
  void handleCommand(Session& s, std::string_view line, uint32_t lineSeq, uint64_t handle,
                     uint64_t now, Actions& out);
  void handleReply(Session& s, std::string_view line, uint32_t lineSeq, uint64_t handle,
                   uint64_t now, Actions& out);
  void announce(Session& s, Dir d, EventKind kind, const AddrParse& p, bool solicited,
                std::string_view line, uint32_t lineSeq, uint64_t handle, uint64_t now,
                Actions& out);
  // How much of the line in progress may be forwarded now: false when all of it, else true
  // with `at` the first original byte that must be held. May splice a PORT/EPRT address early.
  bool mustHold(Session& s, Dir d, uint32_t& at);
  void pushPending(Session& s, Pending p);
  Pending frontPending(const Session& s) const;
  Pending relearnPending(Session& s, Pending want);
  void popPending(Session& s);

  // Releases original range [from, to) of direction d into the held packets plus `current`.
  void release(Session& s, Dir d, uint32_t from, uint32_t to, const HeldSeg* current,
               uint32_t outAck, bool withHeld, Actions& out);
  void resync(Session& s, Dir d, uint32_t at, uint64_t handle, uint64_t now, Actions& out);
  // Kernel sequence adjustment: every packet keeps its own byte range and numbers, only its
  // payload is replaced by the rewritten bytes of that range.
  void releaseInPlace(DirState& ds, const HeldSeg* const* pk, size_t k, const HeldSeg* current,
                      Actions& out);

  Event* baseEvent(Session& s, Dir d, EventKind k, uint64_t handle, uint64_t now, Actions& out) {
    Event* e = addEvent(out);
    if (e == nullptr) return nullptr;
    e->tsNs = now;
    e->flow = s.key;
    e->dir = d;
    e->kind = k;
    e->handle = handle;
    return e;
  }

  EngineConfig cfg_;
  NatResolver* nat_;
  std::vector<Session> sessions_;
  std::vector<uint32_t> index_;
  std::vector<DirBuffer> bufs_;
  std::vector<uint8_t> flight_;
  std::vector<char> lines_;
  std::vector<uint8_t> scratch_;
  size_t scratchUsed_ = 0;
  std::span<const uint8_t> curPayload_;  // payload of the segment being processed
  uint32_t freeBuf_ = kNone;
  size_t liveSessions_ = 0;
  size_t nextFreeSession_ = 0;
  std::array<uint64_t, static_cast<size_t>(Counter::Count)> counters_{};
};

// --- session table -------------------------------------------------------------------------

Session* EngineImpl::find(const FlowKey& k) {
  const size_t mask = index_.size() - 1;
  for (size_t i = hashKey(k) & mask, n = 0; n < index_.size(); i = (i + 1) & mask, ++n) {
    if (index_[i] == kNone) return nullptr;
    Session& s = sessions_[index_[i]];
    if (s.key == k) return &s;
  }
  return nullptr;
}

Session* EngineImpl::create(const FlowKey& k, uint64_t now) {
  if (liveSessions_ == sessions_.size()) return nullptr;
  size_t slot = nextFreeSession_;
  while (sessions_[slot].used) slot = (slot + 1) % sessions_.size();
  nextFreeSession_ = (slot + 1) % sessions_.size();
  Session& s = sessions_[slot];
  s = Session{};
  s.used = true;
  s.key = k;
  s.lastSeenNs = now;
  s.nat = NatBinding{k.client.addr, k.client.addr, k.server.addr, k.server.addr};
  const size_t mask = index_.size() - 1;
  size_t i = hashKey(k) & mask;
  while (index_[i] != kNone) i = (i + 1) & mask;
  index_[i] = static_cast<uint32_t>(slot);
  ++liveSessions_;
  count(Counter::Sessions);
  return &s;
}

void EngineImpl::removeFromIndex(size_t slot) {
  const size_t mask = index_.size() - 1;
  size_t i = hashKey(sessions_[slot].key) & mask;
  while (index_[i] != static_cast<uint32_t>(slot)) i = (i + 1) & mask;
  // Backward-shift deletion keeps probe chains intact without tombstones.
  size_t j = i;
  for (;;) {
    index_[i] = kNone;
    for (;;) {
      j = (j + 1) & mask;
      if (index_[j] == kNone) return;
      const size_t home = hashKey(sessions_[index_[j]].key) & mask;
      const bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!between) break;
    }
    index_[i] = index_[j];
    i = j;
  }
}

void EngineImpl::endSession(Session& s, Actions& out, bool dropHeld) {
  for (DirState& d : s.dir) {
    DirBuffer* b = buffer(d);
    if (b != nullptr) {
      if (dropHeld) {
        for (uint32_t i = 0; i < b->heldCount; ++i) {
          addPacket(out, b->held[i].handle, PacketVerdict::Drop);
          count(Counter::HeldDroppedAtEnd);
        }
      }
      b->heldCount = 0;
      b->lineLen = 0;
      b->flightLen = 0;
      b->map.clear();
      b->nextFree = freeBuf_;
      freeBuf_ = d.buf;
      d.buf = kNone;
    }
  }
  const auto slot = static_cast<size_t>(&s - sessions_.data());
  removeFromIndex(slot);
  s.used = false;
  --liveSessions_;
  count(Counter::SessionsEnded);
}

// --- direction buffers ---------------------------------------------------------------------

DirBuffer* EngineImpl::acquire(DirState& d) {
  if (d.buf != kNone) return &bufs_[d.buf];
  if (freeBuf_ == kNone) return nullptr;
  d.buf = freeBuf_;
  DirBuffer& b = bufs_[d.buf];
  freeBuf_ = b.nextFree;
  b.map.clear();
  b.map.setBaseDelta(d.baseDelta);
  b.flightStart = d.next;
  b.flightLen = 0;
  b.lineLen = 0;
  b.heldCount = 0;
  return &b;
}

void EngineImpl::maybeRelease(DirState& d) {
  DirBuffer* b = buffer(d);
  if (b == nullptr || b->lineLen != 0 || b->heldCount != 0 || d.holding || b->flightLen != 0 ||
      b->map.size() != 0) {
    return;
  }
  d.baseDelta = b->map.baseDelta();
  b->nextFree = freeBuf_;
  freeBuf_ = d.buf;
  d.buf = kNone;
}

void EngineImpl::trimAcked(DirState& o, uint32_t origAck) {
  // Only what was released can have been acknowledged; ignore acknowledgements of data that
  // was never sent.
  if (seqGt(origAck, o.released) || seqLe(origAck, o.acked)) return;
  o.acked = origAck;
  DirBuffer* b = buffer(o);
  if (b == nullptr) return;
  if (seqGt(origAck, b->flightStart)) {
    const auto n = std::min<uint32_t>(static_cast<uint32_t>(seqDiff(origAck, b->flightStart)),
                                      b->flightLen);
    uint8_t* f = flightData(o.buf);
    std::memmove(f, f + n, b->flightLen - n);
    b->flightLen -= n;
    b->flightStart += n;
  }
  b->map.collapseUpTo(origAck);
  maybeRelease(o);
}

uint32_t EngineImpl::mapAck(DirState& o, uint32_t ack) {
  DirBuffer* b = buffer(o);
  if (cfg_.ackSpace == AckSpace::Rewritten || cfg_.kernelSeqAdjust) {
    const uint32_t orig = b ? b->map.toOriginal(ack) : seqAdd(ack, -o.baseDelta);
    trimAcked(o, orig);
    return cfg_.kernelSeqAdjust ? ack : orig;  // the kernel maps it back itself
  }
  // Replay: the capture's acknowledgements are in original space. Never acknowledge bytes
  // the output has not carried yet (held ones).
  const uint32_t clamped = seqGt(ack, o.released) ? o.released : ack;
  const uint32_t mapped = mapSeq(o, clamped);
  trimAcked(o, clamped);
  return mapped;
}

// --- pairing -------------------------------------------------------------------------------

void EngineImpl::pushPending(Session& s, Pending p) {
  if (s.ringCount == kPairRing) {
    // More unanswered commands than the ring holds: forget the oldest; pairing is then only
    // re-learnt from the next passive reply.
    if (s.pairingKnown) count(Counter::PairingLost);
    s.pairingKnown = false;
    popPending(s);
  }
  s.ring[(s.ringHead + s.ringCount) % kPairRing] = p;
  ++s.ringCount;
}

Pending EngineImpl::frontPending(const Session& s) const {
  if (!s.pairingKnown || s.ringCount == 0) return Pending::Unknown;
  return s.ring[s.ringHead];
}

Pending EngineImpl::relearnPending(Session& s, Pending want) {
  // Pairing unknown (mid-stream pickup, a gap, ring overflow): a reply of the kind `want`
  // answers the oldest pending command of that kind, if any; every command before it is taken
  // as answered, and pairing is known again from there.
  for (uint8_t i = 0; i < s.ringCount; ++i) {
    if (s.ring[(s.ringHead + i) % kPairRing] != want) continue;
    s.ringHead = static_cast<uint8_t>((s.ringHead + i) % kPairRing);
    s.ringCount = static_cast<uint8_t>(s.ringCount - i);
    s.pairingKnown = true;
    return want;
  }
  return Pending::Unknown;
}

void EngineImpl::popPending(Session& s) {
  if (s.ringCount == 0) return;
  s.ringHead = static_cast<uint8_t>((s.ringHead + 1) % kPairRing);
  --s.ringCount;
}

// --- lines ---------------------------------------------------------------------------------

namespace {

// "198,18,0,2," for PORT, "|1|198.18.0.2|" for EPRT with delimiter `delim`; empty if the
// address does not fit the wire form.
size_t addressPrefixText(Verb verb, const IpAddr& a, char delim, std::span<char> out) {
  if (verb == Verb::Port) {
    if (a.family != Family::V4) return 0;
    std::array<char, 24> t{};
    const size_t n = formatPortText(Endpoint{a, 1024}, t);  // "a,b,c,d,4,0"
    size_t commas = 0;
    for (size_t i = 0; i < n && i < out.size(); ++i) {
      out[i] = t[i];
      if (t[i] == ',' && ++commas == 4) return i + 1;
    }
    return 0;
  }
  std::array<char, 64> ip{};
  const size_t n = formatIp(a, ip);
  if (n == 0 || n + 4 > out.size()) return 0;
  out[0] = delim;
  out[1] = a.family == Family::V4 ? '1' : '2';
  out[2] = delim;
  std::memcpy(out.data() + 3, ip.data(), n);
  out[3 + n] = delim;
  return n + 4;
}

bool startsWithVerb(std::string_view line, std::string_view verb) {
  if (line.size() < verb.size() + 1 || line[verb.size()] != ' ') return false;
  for (size_t i = 0; i < verb.size(); ++i) {
    if ((line[i] & ~0x20) != verb[i]) return false;
  }
  return true;
}

}  // namespace

bool EngineImpl::mustHold(Session& s, Dir d, uint32_t& at) {
  DirState& ds = s.dir[static_cast<size_t>(d)];
  if (ds.opaque || ds.discard || ds.buf == kNone) return false;
  DirBuffer& b = bufs_[ds.buf];
  if (b.lineLen == 0) return false;
  const std::string_view prefix(lineData(ds.buf), b.lineLen);
  if (d == Dir::S2C) {
    // A reply may carry its address anywhere: hold the whole line, but only when the server's
    // announcement would be rewritten at all.
    if (s.nat.serverInside == s.nat.serverOutside) return false;
    if (!mayBeAnnouncingReply(prefix, ds.reply.inMulti, ds.reply.code)) return false;
    at = ds.lineStart;
    return true;
  }
  // Without NAT nothing is rewritten: the line is inspected when it completes, before the
  // packet that completes it is released, and nothing needs to wait.
  if (s.nat.clientInside == s.nat.clientOutside || ds.earlySpliced) return false;
  if (!mayBeAnnouncingCommand(prefix)) return false;
  const bool port = startsWithVerb(prefix, "PORT");
  const bool eprt = startsWithVerb(prefix, "EPRT");
  if (!port && !eprt) {
    // A verb still being typed is never rewritten; LPRT (policy-disabled by default) and
    // anything unusual is held whole.
    if (prefix.size() <= 4) return false;
    at = ds.lineStart;
    return true;
  }
  // The verb and its space are never rewritten. Of the address text, the part that reads the
  // same for the client's inside and outside address can pass too; the rest is held until the
  // address is complete, then spliced at once, so a sender limited by its congestion window
  // (one byte per segment) is never left waiting on bytes held here.
  const std::string_view rest = prefix.substr(5);
  if (eprt && rest.empty()) return false;
  const char delim = eprt ? rest[0] : ',';
  std::array<char, 64> inside{};
  std::array<char, 64> outside{};
  const Verb verb = port ? Verb::Port : Verb::Eprt;
  const size_t ni = addressPrefixText(verb, s.nat.clientInside, delim, inside);
  const size_t no = addressPrefixText(verb, s.nat.clientOutside, delim, outside);
  if (ni == 0 || no == 0) return false;
  const std::string_view in(inside.data(), ni);
  const std::string_view outText(outside.data(), no);
  const size_t seen = std::min(rest.size(), ni);
  if (rest.substr(0, seen) != in.substr(0, seen)) return false;  // not the client's address
  size_t common = 0;
  while (common < ni && common < no && in[common] == outText[common]) ++common;
  const uint32_t spliceAt = ds.lineStart + 5 + static_cast<uint32_t>(common);
  if (rest.size() < ni) {
    at = spliceAt;
    return rest.size() > common;
  }
  if (seqLt(spliceAt, ds.released) ||
      !b.map.add(spliceAt, static_cast<uint16_t>(ni - common),
                 std::span<const char>(outText.data() + common, no - common))) {
    at = spliceAt;
    return true;  // decided when the line completes (refused there if it cannot be rewritten)
  }
  ds.earlySpliced = true;
  count(Counter::Rewrites);
  return false;
}

void EngineImpl::processNewBytes(Session& s, Dir d, const uint8_t* data, uint32_t len,
                                 uint32_t seq, uint64_t handle, uint64_t now, Actions& out) {
  DirState& ds = s.dir[static_cast<size_t>(d)];
  DirBuffer& b = bufs_[ds.buf];
  char* lb = lineData(ds.buf);
  const size_t cap = cfg_.maxLine + 2;
  const auto* text = reinterpret_cast<const char*>(data);
  uint32_t pos = 0;
  while (pos < len) {
    if (ds.opaque) return;
    const auto* lf = static_cast<const char*>(std::memchr(text + pos, '\n', len - pos));
    const uint32_t lfPos = lf ? static_cast<uint32_t>(lf - text) : len;
    if (ds.discard) {
      if (lf == nullptr) return;
      ds.discard = false;
      pos = lfPos + 1;
      ds.lineStart = seq + pos;
      continue;
    }
    if (b.lineLen > 0) {
      const uint32_t take = (lf ? lfPos + 1 : len) - pos;
      if (b.lineLen + take > cap) {
        handleBadLine(s, d, std::string_view(lb, b.lineLen), ParseError::LineTooLong, handle, now,
                      out);
      ds.earlySpliced = false;
        b.lineLen = 0;
        if (lf == nullptr) {
          ds.discard = true;
          return;
        }
        pos = lfPos + 1;
        ds.lineStart = seq + pos;
        continue;
      }
      std::memcpy(lb + b.lineLen, text + pos, take);
      b.lineLen += take;
      pos += take;
      if (lf == nullptr) return;
      const std::string_view whole(lb, b.lineLen);
      const LineFrame f = frameLine(whole, cfg_.maxLine);
      if (f.status == ParseStatus::Ok) {
        handleLine(s, d, whole.substr(0, f.length), ds.lineStart, handle, now, out);
      } else {
        handleBadLine(s, d, whole, f.error, handle, now, out);
      }
      ds.earlySpliced = false;
      b.lineLen = 0;
      ds.lineStart = seq + pos;
      continue;
    }
    const std::string_view rest(text + pos, len - pos);
    const LineFrame f = frameLine(rest, cfg_.maxLine);
    if (f.status == ParseStatus::Ok) {
      handleLine(s, d, rest.substr(0, f.length), seq + pos, handle, now, out);
      ds.earlySpliced = false;
      pos += static_cast<uint32_t>(f.consumed);
      ds.lineStart = seq + pos;
    } else if (f.status == ParseStatus::NeedMore) {
      std::memcpy(lb, rest.data(), rest.size());
      b.lineLen = static_cast<uint32_t>(rest.size());
      ds.lineStart = seq + pos;
      return;
    } else {
      const size_t upto = f.consumed > 0 ? f.consumed : rest.size();
      handleBadLine(s, d, rest.substr(0, upto), f.error, handle, now, out);
      ds.earlySpliced = false;
      if (f.consumed == 0) {
        ds.discard = true;
        return;
      }
      pos += static_cast<uint32_t>(f.consumed);
      ds.lineStart = seq + pos;
    }
  }
}

void EngineImpl::handleBadLine(Session& s, Dir d, std::string_view line, ParseError err,
                               uint64_t handle, uint64_t now, Actions& out) {
  count(err == ParseError::LineTooLong ? Counter::LineTooLong : Counter::BadLine);
  const DirState& ds = s.dir[static_cast<size_t>(d)];
  const bool looks = d == Dir::C2S ? mayBeAnnouncingCommand(line.substr(0, 4))
                                   : mayBeAnnouncingReply(line.substr(0, 4), ds.reply.inMulti,
                                                          ds.reply.code);
  if (!looks) return;
  // A line that could have been an announcement but is not a valid line: say so, admit nothing.
  Event* e = baseEvent(s, d, EventKind::Malformed, handle, now, out);
  if (e == nullptr) return;
  e->verdict = Verdict::Refuse;
  e->reason = err == ParseError::LineTooLong ? Reason::LineTooLong : Reason::ParseFailed;
  e->parseError = err;
}

void EngineImpl::handleLine(Session& s, Dir d, std::string_view line, uint32_t lineSeq,
                            uint64_t handle, uint64_t now, Actions& out) {
  count(Counter::Lines);
  if (d == Dir::C2S) {
    handleCommand(s, line, lineSeq, handle, now, out);
  } else {
    handleReply(s, line, lineSeq, handle, now, out);
  }
}

void EngineImpl::handleCommand(Session& s, std::string_view line, uint32_t lineSeq,
                               uint64_t handle, uint64_t now, Actions& out) {
  const Command c = classifyCommand(line);
  switch (c.verb) {
    case Verb::Port:
      announce(s, Dir::C2S, EventKind::Port, parsePort(line), true, line, lineSeq, handle, now, out);
      break;
    case Verb::Eprt:
      announce(s, Dir::C2S, EventKind::Eprt, parseEprt(line), true, line, lineSeq, handle, now, out);
      break;
    case Verb::Lprt:
      announce(s, Dir::C2S, EventKind::Lprt, parseLprt(line), true, line, lineSeq, handle, now, out);
      break;
    case Verb::Pasv:
      pushPending(s, Pending::Pasv);
      return;
    case Verb::Lpsv:
      pushPending(s, Pending::Lpsv);
      return;
    case Verb::Epsv:
      if (c.epsvAll) {
        s.epsvAll = true;
        pushPending(s, Pending::Other);
        if (Event* e = baseEvent(s, Dir::C2S, EventKind::EpsvAll, handle, now, out)) {
          e->verdict = Verdict::Pass;
        }
        return;
      }
      pushPending(s, Pending::Epsv);
      return;
    case Verb::Auth:
      pushPending(s, c.authTls ? Pending::AuthTls : Pending::Other);
      return;
    case Verb::Other:
    case Verb::Count:
      // A client line shaped like a passive reply is a forgery attempt: say so, admit nothing.
      if (line.size() >= 4 && line[3] == ' ' && (line.starts_with("227") ||
                                                  line.starts_with("229") ||
                                                  line.starts_with("228"))) {
        const EventKind k = line[2] == '7'   ? EventKind::Pasv227
                            : line[2] == '9' ? EventKind::Epsv229
                                             : EventKind::Lpsv228;
        const AddrParse p = k == EventKind::Pasv227   ? parse227(line)
                            : k == EventKind::Epsv229 ? parse229(line)
                                                      : parse228(line);
        if (p.status == ParseStatus::Ok) {
          announce(s, Dir::C2S, k, p, false, line, lineSeq, handle, now, out);
        }
      }
      break;
  }
  pushPending(s, Pending::Other);
}

void EngineImpl::handleReply(Session& s, std::string_view line, uint32_t lineSeq,
                             uint64_t handle, uint64_t now, Actions& out) {
  DirState& ds = s.dir[static_cast<size_t>(Dir::S2C)];
  const ReplyLine r = trackReply(ds.reply, line);
  if (r.status != ParseStatus::Ok) {
    count(Counter::BadLine);
    // A server line shaped like PORT/EPRT is a forgery attempt: say so, admit nothing.
    const Command c = classifyCommand(line);
    if (c.verb == Verb::Port || c.verb == Verb::Eprt) {
      const AddrParse p = c.verb == Verb::Port ? parsePort(line) : parseEprt(line);
      if (p.status == ParseStatus::Ok) {
        announce(s, Dir::S2C, c.verb == Verb::Port ? EventKind::Port : EventKind::Eprt, p, true,
                 line, lineSeq, handle, now, out);
      }
    }
    return;
  }
  if (r.first) {
    ds.replyFound = false;
    if (s.pairingKnown) {
      ds.replyTo = frontPending(s);
    } else {
      const Pending want = r.code == 227   ? Pending::Pasv
                           : r.code == 229 ? Pending::Epsv
                           : r.code == 228 ? Pending::Lpsv
                           : r.code == 234 ? Pending::AuthTls
                                           : Pending::Unknown;
      ds.replyTo = want == Pending::Unknown ? Pending::Unknown : relearnPending(s, want);
    }
  }
  EventKind kind = EventKind::Count;
  AddrParse p;
  if (r.code == 227) {
    kind = EventKind::Pasv227;
    if (!ds.replyFound) p = parse227(line);
  } else if (r.code == 229) {
    kind = EventKind::Epsv229;
    if (!ds.replyFound) p = parse229(line);
  } else if (r.code == 228) {
    kind = EventKind::Lpsv228;
    if (!ds.replyFound) p = parse228(line);
  }
  if (kind != EventKind::Count && !ds.replyFound) {
    if (p.status == ParseStatus::Ok) {
      ds.replyFound = true;
      const Pending want = kind == EventKind::Pasv227   ? Pending::Pasv
                           : kind == EventKind::Epsv229 ? Pending::Epsv
                                                        : Pending::Lpsv;
      announce(s, Dir::S2C, kind, p, ds.replyTo == want, line, lineSeq, handle, now, out);
    } else if (r.last) {
      // No line of the reply carried a valid address: report the last error.
      announce(s, Dir::S2C, kind, p, false, line, lineSeq, handle, now, out);
    }
  }
  if (r.last && r.code == 234 && ds.replyTo == Pending::AuthTls) {
    // TLS from here on: nothing more in either direction can be inspected.
    s.dir[0].opaque = true;
    s.dir[1].opaque = true;
    count(Counter::TlsSessions);
    if (Event* e = baseEvent(s, Dir::S2C, EventKind::AuthTls, handle, now, out)) {
      e->verdict = Verdict::Pass;
      e->reason = Reason::TlsOpaque;
    }
  }
  if (r.last && r.code >= 200 && s.pairingKnown) popPending(s);
}

void EngineImpl::announce(Session& s, Dir d, EventKind kind, const AddrParse& p, bool solicited,
                          std::string_view line, uint32_t lineSeq, uint64_t handle, uint64_t now,
                          Actions& out) {
  count(Counter::Announcements);
  Event* e = baseEvent(s, d, kind, handle, now, out);
  Event scratch;
  if (e == nullptr) e = &scratch;  // still decide and count; the event itself is suppressed
  if (p.status != ParseStatus::Ok) {
    e->verdict = Verdict::Refuse;
    e->reason = Reason::ParseFailed;
    e->parseError = p.error;
    count(Counter::Refused);
    return;
  }
  size_t outstanding = 0;
  for (uint64_t until : s.expectUntil) outstanding += until > now ? 1 : 0;
  AnnouncementContext ctx;
  ctx.dir = d;
  ctx.kind = kind;
  ctx.parse = &p;
  ctx.connFamily = s.key.client.addr.family;
  ctx.nat = &s.nat;
  ctx.epsvAll = s.epsvAll;
  ctx.solicited = solicited;
  ctx.outstandingExpectations = outstanding;
  ctx.config = &cfg_;
  PolicyDecision dec = decideAnnouncement(ctx);
  e->hasAnnounced = true;
  e->announced = dec.announced;

  DirState& ds = s.dir[static_cast<size_t>(d)];
  const bool early = ds.earlySpliced && (kind == EventKind::Port || kind == EventKind::Eprt);
  if (early) {
    // The address was spliced while the line was still arriving (see mustHold).
    e->hasRewritten = true;
    e->rewritten = Endpoint{s.nat.clientOutside, p.ep.port};
  } else if (dec.verdict == Verdict::Admit && dec.rewrite) {
    const uint32_t spanStart = lineSeq + p.span.offset;
    DirBuffer* b = buffer(ds);
    std::array<char, 80> text{};
    size_t n = 0;
    switch (kind) {
      case EventKind::Port:
      case EventKind::Pasv227:
        n = formatPortText(dec.rewritten, text);
        break;
      case EventKind::Eprt:
        n = formatEprtText(dec.rewritten, p.delim, text);
        break;
      default:
        n = formatLongText(dec.rewritten, text);
        break;
    }
    // Splice only from the first byte that differs: what reads the same may have passed
    // already (see mustHold), and a shorter splice is the same rewrite.
    const std::string_view orig = line.substr(p.span.offset, p.span.length);
    size_t same = 0;
    while (same < orig.size() && same < n && orig[same] == text[same]) ++same;
    if (seqLt(spanStart + static_cast<uint32_t>(same), ds.released)) {
      dec.verdict = Verdict::Refuse;
      dec.reason = Reason::PartiallyReleased;
    } else if (b == nullptr || n == 0 ||
               !b->map.add(spanStart + static_cast<uint32_t>(same),
                           static_cast<uint16_t>(p.span.length - same),
                           std::span<const char>(text.data() + same, n - same))) {
      count(Counter::SeqAdjFull);
      dec.verdict = Verdict::Refuse;
      dec.reason = Reason::TooManyExpectations;
    } else {
      count(Counter::Rewrites);
    }
  }
  e->verdict = dec.verdict;
  e->reason = dec.reason;
  if (dec.verdict != Verdict::Admit) {
    count(Counter::Refused);
    return;
  }
  count(Counter::Admitted);
  if (!(dec.rewritten == dec.announced)) {
    e->hasRewritten = true;
    e->rewritten = dec.rewritten;
  }
  e->hasExpect = true;
  e->expect = dec.expect;
  // Remember the expectation's lifetime for the per-session limit.
  auto slot = std::min_element(s.expectUntil.begin(),
                               s.expectUntil.begin() +
                                   static_cast<std::ptrdiff_t>(cfg_.maxExpectationsPerSession));
  *slot = now + cfg_.expectTimeoutNs;
}

// --- release -------------------------------------------------------------------------------

void EngineImpl::release(Session& s, Dir d, uint32_t from, uint32_t to, const HeldSeg* current,
                         uint32_t outAck, bool withHeld, Actions& out) {
  DirState& ds = s.dir[static_cast<size_t>(d)];
  DirState& os = s.dir[static_cast<size_t>(opposite(d))];
  DirBuffer* b = buffer(ds);
  std::span<uint8_t> dst(scratch_.data() + scratchUsed_, scratch_.size() - scratchUsed_);
  size_t total = 0;
  if (b != nullptr && seqLt(from, to)) {
    total = b->map.render(from, to, std::span<const uint8_t>(flightData(ds.buf), b->flightLen),
                          b->flightStart, dst);
    if (total == SIZE_MAX) total = 0;  // cannot happen: ranges are inside the flight buffer
  }
  scratchUsed_ += total;
  const uint32_t outSeq = mapSeq(ds, from);

  // Packets available, oldest first: the held ones, then the current one.
  std::array<const HeldSeg*, kMaxHeld + 1> pk{};
  size_t k = 0;
  if (b != nullptr && withHeld) {
    for (uint32_t i = 0; i < b->heldCount; ++i) pk[k++] = &b->held[i];
  }
  if (current != nullptr) pk[k++] = current;
  if (k == 0) return;
  if (cfg_.kernelSeqAdjust) {
    releaseInPlace(ds, pk.data(), k, current, out);
    if (b != nullptr && withHeld) {
      b->heldCount = 0;
      ds.holding = false;
    }
    return;
  }

  const size_t limit = std::max<size_t>(ds.mss != 0 ? ds.mss : kDefaultMss, ds.maxSeen);
  size_t needed = std::max<size_t>(1, (total + limit - 1) / limit);
  size_t emitted = total;
  if (needed > k) {
    count(Counter::RewriteExceedsMss);
    needed = k;
    emitted = k * limit;
  }
  const size_t firstUsed = k - needed;
  size_t off = 0;
  for (size_t i = 0; i < k; ++i) {
    const HeldSeg& h = *pk[i];
    if (i < firstUsed) {
      addPacket(out, h.handle, PacketVerdict::Drop);
      count(Counter::Coalesced);
      continue;
    }
    const size_t n = std::min(limit, emitted - off);
    PacketAction* a = addPacket(out, h.handle, PacketVerdict::Rewrite);
    a->seq = outSeq + static_cast<uint32_t>(off);
    a->payload = std::span<const uint8_t>(dst.data() + off, n);
    off += n;
    if (&h == current) {
      a->ack = outAck;
    } else {
      a->ack = (h.flags & TcpAck) != 0 && os.started ? mapAck(os, h.ack) : h.ack;
    }
    a->sackCount = h.sackCount;
    for (uint8_t j = 0; j < h.sackCount; ++j) {
      a->sack[j] = os.started ? SackBlock{mapSackEdge(os, h.sack[j].left),
                                          mapSackEdge(os, h.sack[j].right)}
                              : h.sack[j];
    }
  }
  if (b != nullptr && withHeld) {
    b->heldCount = 0;
    ds.holding = false;
  }
}

void EngineImpl::releaseInPlace(DirState& ds, const HeldSeg* const* pk, size_t k,
                                const HeldSeg* current, Actions& out) {
  DirBuffer* b = buffer(ds);
  for (size_t i = 0; i < k; ++i) {
    const HeldSeg& h = *pk[i];
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
    const uint32_t to = h.seq + h.len;
    if (b != nullptr && seqLt(from, to)) {
      const size_t r = b->map.render(from, to,
                                     std::span<const uint8_t>(flightData(ds.buf), b->flightLen),
                                     b->flightStart, dst.subspan(w));
      if (r != SIZE_MAX) w += r;
    }
    scratchUsed_ += w;
    a->payload = std::span<const uint8_t>(dst.data(), w);
  }
}

void EngineImpl::resync(Session& s, Dir d, uint32_t at, uint64_t handle, uint64_t now,
                        Actions& out) {
  DirState& ds = s.dir[static_cast<size_t>(d)];
  count(Counter::GapResync);
  if (Event* e = baseEvent(s, d, EventKind::Desync, handle, now, out)) {
    e->verdict = Verdict::Pass;
    e->reason = Reason::Ok;
  }
  DirBuffer* b = buffer(ds);
  if (b != nullptr) {
    if (ds.holding) {
      HeldSeg last = b->held[b->heldCount - 1];
      --b->heldCount;
      release(s, d, ds.heldFrom, ds.next, &last, 0, true, out);
      // The last held packet carried no fresh acknowledgement; keep its own.
      out.packets[out.packetCount - 1].ack = (last.flags & TcpAck) != 0 ? mapAck(s.dir[static_cast<size_t>(opposite(d))], last.ack) : last.ack;
    }
    b->lineLen = 0;
    b->flightLen = 0;
    b->flightStart = at;
  }
  // The bytes in the gap never passed through here; the rest of the current line is skipped,
  // and commands or replies may have been lost with them.
  ds.discard = true;
  s.pairingKnown = false;
  ds.next = at;
  ds.released = at;
  ds.acked = at;
  ds.lineStart = at;
  ds.gapDrops = 0;
}

// --- the segment pipeline ------------------------------------------------------------------

void EngineImpl::onSegment(const Segment& seg, uint64_t now, Actions& out) {
  scratchUsed_ = 0;
  const PacketView& v = *seg.view;
  curPayload_ = v.payload;
  count(Counter::Segments);
  Dir d;
  FlowKey key;
  if (isControlPort(v.dport)) {
    d = Dir::C2S;
    key = FlowKey{Endpoint{v.src, v.sport}, Endpoint{v.dst, v.dport}};
  } else if (isControlPort(v.sport)) {
    d = Dir::S2C;
    key = FlowKey{Endpoint{v.dst, v.dport}, Endpoint{v.src, v.sport}};
  } else {
    count(Counter::NonControl);
    addPacket(out, seg.handle, PacketVerdict::Accept);
    return;
  }
  const bool syn = (v.flags & TcpSyn) != 0;
  const bool fin = (v.flags & TcpFin) != 0;
  const bool rst = (v.flags & TcpRst) != 0;
  const auto len = static_cast<uint32_t>(v.payload.size());

  Session* s = find(key);
  if (s != nullptr && syn && !(v.flags & TcpAck) && d == Dir::C2S && s->dir[0].started &&
      s->dir[0].next != v.seq + 1) {
    // A new connection on the same tuple: the old session is over.
    endSession(*s, out, true);
    s = nullptr;
  }
  if (s == nullptr) {
    if (rst || (!syn && len == 0)) {
      addPacket(out, seg.handle, PacketVerdict::Accept);
      return;
    }
    s = create(key, now);
    if (s == nullptr) {
      count(Counter::SessionTableFull);
      addPacket(out, seg.handle, PacketVerdict::Accept);
      if (syn && d == Dir::C2S) {
        Event e;
        e.tsNs = now;
        e.flow = key;
        e.dir = d;
        e.kind = EventKind::Desync;
        e.verdict = Verdict::Pass;
        e.reason = Reason::SessionTableFull;
        e.handle = seg.handle;
        if (Event* pe = addEvent(out)) *pe = e;
      }
      return;
    }
    if (syn) {
      s->ring[0] = Pending::Greeting;
      s->ringCount = 1;
    } else {
      s->pairingKnown = false;
      count(Counter::MidstreamPickup);
    }
  }
  s->lastSeenNs = now;
  if (!s->natResolved && !(syn && !(v.flags & TcpAck))) {
    // Asked once, after the client's SYN: an inline gateway sees that SYN before conntrack has
    // confirmed the connection and NAT has chosen its addresses.
    s->natResolved = true;
    NatBinding b;
    if (nat_ != nullptr && nat_->resolve(key, b)) s->nat = b;
  }
  DirState& ds = s->dir[static_cast<size_t>(d)];
  DirState& os = s->dir[static_cast<size_t>(opposite(d))];

  if (syn) {
    if (!ds.started) {
      ds.started = true;
      ds.next = v.seq + 1;
      ds.released = ds.acked = ds.lineStart = ds.next;
    }
    if (v.mss != 0) os.mss = v.mss;
  }

  // Acknowledgements refer to the other direction's stream.
  uint32_t outAck = v.ack;
  HeldSeg cur;
  cur.handle = seg.handle;
  cur.seq = v.seq;
  cur.len = len;
  cur.ack = v.ack;
  cur.flags = v.flags;
  cur.sackCount = v.sackCount;
  for (uint8_t j = 0; j < v.sackCount; ++j) cur.sack[j] = v.sack[j];
  if ((v.flags & TcpAck) != 0 && os.started) outAck = mapAck(os, v.ack);
  std::array<SackBlock, kMaxSackBlocks> outSack{};
  for (uint8_t j = 0; j < v.sackCount; ++j) {
    outSack[j] = os.started ? SackBlock{mapSackEdge(os, v.sack[j].left),
                                        mapSackEdge(os, v.sack[j].right)}
                            : v.sack[j];
  }
  auto forwardAsIs = [&](uint32_t origSeq) {
    const uint32_t seqOut = cfg_.kernelSeqAdjust ? origSeq : mapSeq(ds, origSeq);
    const bool same = seqOut == v.seq && outAck == v.ack &&
                      std::equal(outSack.begin(), outSack.begin() + v.sackCount, v.sack.begin());
    PacketAction* a = addPacket(out, seg.handle, same ? PacketVerdict::Accept : PacketVerdict::Rewrite);
    a->seq = seqOut;
    a->ack = outAck;
    a->sackCount = v.sackCount;
    a->sack = outSack;
    a->payload = v.payload;
  };

  if (syn) {
    forwardAsIs(v.seq);
    return;
  }
  if (!ds.started) {
    // Mid-stream pickup: the first segment seen starts the stream (assumed at a line start).
    ds.started = true;
    ds.next = ds.released = ds.acked = ds.lineStart = v.seq;
  }
  if (rst) {
    forwardAsIs(v.seq);
    endSession(*s, out, true);
    return;
  }
  if (len == 0 && !fin) {
    forwardAsIs(v.seq);
    maybeRelease(ds);
    maybeRelease(os);
    return;
  }

  const uint32_t segStart = v.seq;
  const uint32_t segEnd = v.seq + len;
  if ((s->finMask & (1u << static_cast<unsigned>(d))) != 0 && len > 0 &&
      seqGe(segEnd, ds.next)) {
    // Data at or after this direction's FIN (ds.next - 1): the FIN takes a sequence number but
    // no byte of the flight buffer, so such bytes can never be tracked in place. A peer that
    // closed sends nothing more: refuse it like a retransmission with different content.
    count(Counter::RetransmitMismatch);
    if (Event* e = baseEvent(*s, d, EventKind::Evasion, seg.handle, now, out)) {
      e->verdict = Verdict::Refuse;
      e->reason = Reason::RetransmitMismatch;
    }
    addPacket(out, seg.handle, PacketVerdict::Drop);
    return;
  }
  if (seqGt(segStart, ds.next)) {
    // Ahead of a gap: never passed uninspected. Drop (TCP retransmits what is missing) unless
    // the gap is declared permanent.
    if (!cfg_.resyncOnGap && ++ds.gapDrops <= cfg_.gapDropLimit) {
      count(Counter::OutOfOrderDropped);
      addPacket(out, seg.handle, PacketVerdict::Drop);
      return;
    }
    resync(*s, d, segStart, seg.handle, now, out);
  }
  ds.gapDrops = 0;

  DirBuffer* b = buffer(ds);
  // Old bytes (a retransmission, entirely or in part) must equal what was inspected.
  const uint32_t oldEnd = seqMin(segEnd, ds.next);
  if (seqLt(segStart, oldEnd)) {
    count(Counter::Retransmissions);
    if (b != nullptr) {
      const uint32_t from = seqMax(segStart, b->flightStart);
      const uint32_t to = seqMin(oldEnd, b->flightStart + b->flightLen);
      if (seqLt(from, to)) {
        const auto off = static_cast<size_t>(seqDiff(from, b->flightStart));
        const auto n = static_cast<size_t>(seqDiff(to, from));
        const auto poff = static_cast<size_t>(seqDiff(from, segStart));
        if (std::memcmp(flightData(ds.buf) + off, v.payload.data() + poff, n) != 0) {
          count(Counter::RetransmitMismatch);
          if (Event* e = baseEvent(*s, d, EventKind::Evasion, seg.handle, now, out)) {
            e->verdict = Verdict::Refuse;
            e->reason = Reason::RetransmitMismatch;
          }
          addPacket(out, seg.handle, PacketVerdict::Drop);
          return;
        }
      }
    }
    if (ds.holding && seqGt(oldEnd, ds.heldFrom) && seqLe(segEnd, ds.next) && !fin) {
      // Retransmission of bytes we hold: the held packets will carry them.
      addPacket(out, seg.handle, PacketVerdict::Drop);
      return;
    }
  }

  const bool hasNew = seqGt(segEnd, ds.next) || (fin && seqGe(segEnd, ds.next));
  if (!hasNew) {
    // Pure retransmission: rewrite it exactly as the first time.
    count(Counter::OldDuplicate, b == nullptr || seqLt(segStart, b->flightStart) ? 1 : 0);
    if (b == nullptr || seqGe(segStart, seqAdd(b->flightStart, b->flightLen)) ||
        seqLe(segEnd, b->flightStart) || !b->map.touches(segStart, segEnd)) {
      forwardAsIs(segStart);
      return;
    }
    const uint32_t from = seqMax(segStart, b->flightStart);
    release(*s, d, from, segEnd, &cur, outAck, false, out);
    return;
  }

  // New data: [ds.next, segEnd).
  const uint32_t newFrom = ds.next;
  const auto newLen = static_cast<uint32_t>(seqDiff(segEnd, newFrom));
  const uint8_t* newData = v.payload.data() + seqDiff(newFrom, segStart);
  if (newLen > 0) {
    b = acquire(ds);
    if (b == nullptr) {
      count(Counter::PoolExhausted);
      addPacket(out, seg.handle, PacketVerdict::Drop);
      return;
    }
    if (b->map.full()) {
      count(Counter::SeqAdjFull);
      addPacket(out, seg.handle, PacketVerdict::Drop);
      return;
    }
    if (b->flightLen + newLen > cfg_.maxInFlight) {
      const uint32_t keepFrom = ds.holding ? ds.heldFrom : ds.released;
      const uint32_t evictable = static_cast<uint32_t>(seqDiff(keepFrom, b->flightStart));
      const uint32_t need = b->flightLen + newLen - static_cast<uint32_t>(cfg_.maxInFlight);
      if (!cfg_.evictWhenFull || need > evictable) {
        count(Counter::BufferOverflow);
        addPacket(out, seg.handle, PacketVerdict::Drop);
        return;
      }
      // Forget the oldest unacknowledged bytes; splices over them are folded into the base.
      count(Counter::InFlightEvicted);
      uint8_t* f = flightData(ds.buf);
      std::memmove(f, f + need, b->flightLen - need);
      b->flightLen -= need;
      b->flightStart += need;
      b->map.collapseUpTo(b->flightStart);
      if (seqLt(ds.acked, b->flightStart)) ds.acked = b->flightStart;
    }
    std::memcpy(flightData(ds.buf) + b->flightLen, newData, newLen);
    b->flightLen += newLen;
    ds.maxSeen = static_cast<uint16_t>(std::max<uint32_t>(ds.maxSeen, std::min<uint32_t>(len, 65535)));
    ds.next = segEnd;
    processNewBytes(*s, d, newData, newLen, newFrom, seg.handle, now, out);
  }
  if (fin) {
    s->finMask = static_cast<uint8_t>(s->finMask | (1u << static_cast<unsigned>(d)));
    s->closing = s->finMask == 3;
  }

  b = buffer(ds);
  uint32_t holdAt = 0;
  if (!fin && b != nullptr && mustHold(*s, d, holdAt) && seqLt(holdAt, segEnd)) {
    // The line in progress may become an announcement: hold the packet until it completes.
    if (!ds.holding) {
      ds.holding = true;
      ds.heldFrom = ds.released;
    }
    if (b->heldCount == kMaxHeld && cfg_.kernelSeqAdjust) {
      // Bytes cannot move between packets here: give up holding this line. If it completes
      // as an announcement, it is refused (partially_released), never half-rewritten.
      release(*s, d, ds.heldFrom, segEnd, &cur, outAck, true, out);
      ds.released = segEnd;
      count(Counter::BufferOverflow);
      return;
    }
    if (b->heldCount == kMaxHeld) {
      addPacket(out, b->held[0].handle, PacketVerdict::Drop);
      count(Counter::Coalesced);
      std::move(b->held.begin() + 1, b->held.end(), b->held.begin());
      --b->heldCount;
    }
    b->held[b->heldCount++] = cur;
    count(Counter::HeldSegments);
    addPacket(out, seg.handle, PacketVerdict::Hold);
    return;
  }
  if (!ds.holding && (b == nullptr || !b->map.touches(segStart, segEnd))) {
    // Common case: nothing spliced in this segment, forward it with shifted numbers only.
    forwardAsIs(segStart);
  } else {
    uint32_t from = ds.holding ? ds.heldFrom : segStart;
    if (b != nullptr && seqLt(from, b->flightStart)) from = b->flightStart;
    release(*s, d, from, segEnd, &cur, outAck, true, out);
  }
  ds.released = segEnd;
  if (fin) ds.next = ds.released = segEnd + 1;
  maybeRelease(ds);
  maybeRelease(os);
}

bool EngineImpl::expire(uint64_t now, Actions& out) {
  for (Session& s : sessions_) {
    if (!s.used) continue;
    const uint64_t limit = s.closing ? cfg_.closeTimeoutNs : cfg_.idleTimeoutNs;
    if (now < s.lastSeenNs || now - s.lastSeenNs < limit) continue;
    if (out.packetCount + 2 * kMaxHeld > Actions::kMaxPackets) return true;
    count(Counter::Expired);
    endSession(s, out, true);
  }
  return false;
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
