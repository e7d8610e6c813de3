// libFuzzer target for core::Engine (src/core/engine.cc, rewrite_map.cc, policy.cc).
//
// The input is a script that drives one or two FTP control connections through the engine,
// built as real packets (tests/support/packet_builder.h), parsed with parsePacket and handed
// to onSegment; the fuzzer then applies the returned actions exactly as an adapter would
// (tests/fuzz/make_engine_corpus.py writes seeds in this format):
//
//   header, 4 bytes
//     h0: bit0 NAT resolver on, bit1 AckSpace::Original, bit2 evictWhenFull, bit3 resyncOnGap,
//         bit4 allowBounce, bit5 allowLowPorts, bit6 allowLongForms, bit7 IPv6
//     h1: bits0-1 maxLine {64,128,512,4096}, bits2-3 maxInFlight {min,512,4096,16384},
//         bits4-5 maxBufferedDirections {1,2,3,16}, bits6-7 maxSessions {1,2,64,64}
//     h2: bit0 two sessions, bit1 start with a handshake, bits2-4 maxExpectationsPerSession-1,
//         bit5 SNAT of the client, bit6 DNAT of the server, bit7 small MSS (server side 40)
//     h3: bits0-1 gapDropLimit {0,1,3,32}, bits2-3 idleTimeout {1ms,1s,60s,3600s}
//   records, until the input ends
//     op:  bit0 direction (0 client->server), bit1 session, bits2-4 kind, bit5 no ACK flag,
//          bit6 variant, bit7 SACK blocks follow
//     arg: kind-specific byte; ack: int8 added to the honest acknowledgement number
//     [sack: count-1 in bits0-1, then count x {left offset, length-1} bytes]
//     len, then len payload bytes (x16, repeated, with the variant bit on data kinds)
//   kinds: 0 new data in order; 1 retransmission starting arg+1 bytes back (variant: other
//          bytes than the first time); 2 data after a gap of arg+1 bytes (the gap's bytes are
//          the payload's, sent later by kind 1); 3 overlap: arg+1 old bytes then new data;
//          4 pure ACK; 5 FIN (with in-order payload); 6 RST; 7 SYN on the tuple again with the
//          ISN moved by arg (variant: advance the clock by arg * 2^30 ns and expire()).
//
// Invariants (trap on violation):
//   - every handle the engine names was given to it and not yet released; Hold is followed by
//     exactly one Accept/Rewrite/Drop; each segment is named in the call that carried it;
//   - a Rewrite rebuilds (rebuildPacket succeeds), parses back with the engine's seq/ack/SACK
//     and payload, and has a valid TCP checksum;
//   - packetCount/eventCount stay within Actions' capacity;
//   - events: an admitted announcement comes from the right direction, names a port >= 1024
//     unless allowLowPorts, and names the announcing peer's own address unless allowBounce;
//     an admitted PORT/EPRT/227 whose text was replaced says what it was replaced with;
//   - with no NAT nothing is spliced: a delivered byte equals the byte the sender sent there;
//     with NAT, overlapping deliveries of bytes not yet acknowledged agree byte for byte
//     (unless the script lied: other retransmitted bytes, forged acknowledgements or SACKs,
//     eviction; nor after a reset or an expiry until the next handshake);
//   - expire(UINT64_MAX) ends every session and releases (drops) every held packet.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"

namespace {

using namespace ftpalg::core;
using ftpalg::test::PacketBuilder;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "engine_fuzz invariant violated: %s\n", what);
    __builtin_trap();
  }
}

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  bool empty() const { return pos_ >= in_.size(); }
  uint8_t u8() { return pos_ < in_.size() ? in_[pos_++] : 0; }
  std::span<const uint8_t> bytes(size_t n) {
    const size_t take = std::min(n, in_.size() - std::min(pos_, in_.size()));
    std::span<const uint8_t> s = in_.subspan(pos_, take);
    pos_ += take;
    return s;
  }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
};

IpAddr addr(bool v6, uint8_t tag) {
  if (!v6) return IpAddr::v4(10, tag, 0, 2);
  std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8, 0, tag};
  b[15] = 2;
  return IpAddr::v6(b);
}

// The binding handed to every new session: the client's real address inside, a public one
// outside (SNAT), the server's real address as dialled, a private one behind it (DNAT).
class FuzzNat : public NatResolver {
 public:
  bool enabled = false;
  bool snat = false;
  bool dnat = false;
  bool v6 = false;
  bool resolve(const FlowKey& flow, NatBinding& out) override {
    if (!enabled) return false;
    out.clientInside = flow.client.addr;
    out.clientOutside = snat ? addr(v6, 77) : flow.client.addr;
    out.serverInside = flow.server.addr;
    out.serverOutside = dnat ? addr(v6, 99) : flow.server.addr;
    return true;
  }
};

// One direction of one simulated connection: the sender's original stream and what the
// receiver has got (in the rewritten space).
struct Side {
  uint32_t isn = 0;
  uint32_t base = 0;   // isn + 1: original seq of stream[0]
  std::string stream;  // bytes in original stream order (first transmission wins)
  uint32_t sent = 0;   // highest offset sent so far
  bool rcvKnown = false;
  uint32_t rcvBase = 0;      // rewritten seq of the receiver's first byte
  std::vector<int16_t> got;  // by offset from rcvBase; -1 = not yet delivered
  uint32_t acked = 0;        // offsets below this were acknowledged to the engine
  uint32_t rcvNext() const {
    uint32_t n = 0;
    while (n < got.size() && got[n] >= 0) ++n;
    return n;
  }
};

constexpr size_t kMaxTracked = 1 << 16;  // offsets beyond this are not tracked

struct Conn {
  Endpoint client;
  Endpoint server;
  Side side[2];  // by Dir
  // Reset, or its session expired: the engine may pick the rest up as a new session, with
  // numbers the peers no longer share. Deliveries go unchecked until the next handshake.
  bool lost = false;
};

class Runner {
 public:
  Runner(const EngineConfig& cfg, FuzzNat& nat, bool v6)
      : cfg_(cfg), nat_(nat), engine_(cfg, &nat), v6_(v6) {
    for (size_t i = 0; i < 2; ++i) {
      conn_[i].client = Endpoint{addr(v6, 1), static_cast<uint16_t>(40000 + i)};
      conn_[i].server = Endpoint{addr(v6, 2), 21};
      conn_[i].side[0].isn = 1000 + static_cast<uint32_t>(i) * 7919;
      conn_[i].side[1].isn = 0xFFFFFF00u + static_cast<uint32_t>(i);  // wraps early
      for (Side& s : conn_[i].side) s.base = s.isn + 1;
    }
  }

  // Without a handshake the engine picks the connections up mid-stream, unshifted.
  void midstream() {
    for (Conn& k : conn_) {
      for (Side& s : k.side) {
        s.rcvKnown = true;
        s.rcvBase = s.base;
      }
    }
  }

  void handshake(size_t c, uint16_t serverMss) {
    Conn& k = conn_[c];
    k.lost = false;
    send(c, Dir::C2S, k.side[0].isn, 0, TcpSyn, {}, {}, 1460);
    send(c, Dir::S2C, k.side[1].isn, k.side[0].base, TcpSyn | TcpAck, {}, {}, serverMss);
    send(c, Dir::C2S, k.side[0].base, ackFor(c, Dir::C2S), TcpAck, {}, {}, 0);
  }

  // The sender of d acknowledges everything its receiver side holds in order.
  void noteAck(size_t c, Dir d) {
    Side& peer = conn_[c].side[static_cast<size_t>(opposite(d))];
    peer.acked = std::max(peer.acked, peer.rcvNext());
  }

  void step(Reader& r, size_t sessions, uint16_t serverMss) {
    const uint8_t op = r.u8();
    const uint8_t arg = r.u8();
    const auto ackDelta = static_cast<int8_t>(r.u8());
    const Dir d = (op & 1) != 0 ? Dir::S2C : Dir::C2S;
    const size_t c = sessions > 1 ? (op >> 1) & 1 : 0;
    const unsigned kind = (op >> 2) & 7;
    const bool noAck = (op & 0x20) != 0;
    const bool variant = (op & 0x40) != 0;
    std::vector<SackBlock> sack;
    Conn& k = conn_[c];
    Side& me = k.side[static_cast<size_t>(d)];
    uint32_t ack = ackFor(c, d) + static_cast<uint32_t>(static_cast<int32_t>(ackDelta));
    if ((op & 0x20) == 0) noteAck(c, d);
    if (ackDelta != 0) dirty_ = true;
    if ((op & 0x80) != 0) {
      const uint8_t sb = r.u8();
      for (unsigned i = 0; i <= (sb & 3u); ++i) {
        const uint32_t left = ack + r.u8();
        sack.push_back(SackBlock{left, left + r.u8() + 1u});
      }
      dirty_ = true;
    }
    const uint8_t len = r.u8();
    std::span<const uint8_t> raw = r.bytes(len);
    std::string payload(raw.begin(), raw.end());
    if (variant && kind <= 3 && kind != 1 && !payload.empty()) {
      std::string big;
      for (int i = 0; i < 16; ++i) big += payload;
      payload = big;
    }
    const uint8_t flags = static_cast<uint8_t>((noAck ? 0 : TcpAck) | TcpPsh);
    switch (kind) {
      case 0:  // in order
        sendNew(c, d, me.sent, payload, ack, flags, sack);
        break;
      case 1: {  // retransmission
        const uint32_t back = std::min<uint32_t>(arg + 1u, me.sent);
        const uint32_t from = me.sent - back;
        size_t n =
            std::min<size_t>(payload.empty() ? back : payload.size(), me.stream.size() - from);
        std::string bytes = me.stream.substr(from, n);
        if (variant && !payload.empty()) {
          bytes = payload.substr(0, n);
          if (bytes != me.stream.substr(from, bytes.size())) dirty_ = true;
        }
        send(c, d, me.base + from, ack, flags, bytes, sack, 0);
        break;
      }
      case 2: {  // beyond a gap; the gap is filled with the payload's bytes for later
        if (payload.empty()) payload = "NOOP\r\n";
        const uint32_t gap = arg + 1u;
        std::string filler;
        while (filler.size() < gap) filler += payload;
        filler.resize(gap);
        if (me.stream.size() == me.sent) me.stream += filler;
        const uint32_t at = static_cast<uint32_t>(me.stream.size());
        me.stream += payload;
        send(c, d, me.base + at, ack, flags, payload, sack, 0);
        me.sent = static_cast<uint32_t>(me.stream.size());
        break;
      }
      case 3: {  // overlap: old bytes then new ones
        const uint32_t back = std::min<uint32_t>(arg + 1u, me.sent);
        sendNew(c, d, me.sent - back, payload, ack, flags, sack);
        break;
      }
      case 4:  // pure acknowledgement
        send(c, d, me.base + me.sent, ack, noAck ? 0 : TcpAck, {}, sack, 0);
        break;
      case 5:  // FIN, possibly with data
        sendNew(c, d, me.sent, payload, ack, static_cast<uint8_t>(TcpFin | flags), sack);
        ++me.sent;
        me.stream.push_back('\0');  // the FIN's sequence number
        break;
      case 6:  // reset
        k.lost = true;
        send(c, d, me.base + me.sent, ack, TcpRst | TcpAck, {}, {}, 0);
        break;
      default:
        if (variant) {
          now_ += static_cast<uint64_t>(arg) << 30;
          expire(now_);
        } else {
          // The client opens the tuple again with another ISN: a new connection.
          const uint32_t isn0 = k.side[0].isn + 100000u * (arg + 1u);
          const uint32_t isn1 = k.side[1].isn + 77u * (arg + 1u);
          for (Side& s : k.side) s = Side{};
          k.side[0].isn = isn0;
          k.side[1].isn = isn1;
          for (Side& s : k.side) s.base = s.isn + 1;
          handshake(c, serverMss);
        }
        break;
    }
  }

  void finish() {
    // Everything still held is released or dropped when the sessions end.
    Actions out;
    for (int i = 0; i < 100; ++i) {
      out.clear();
      const bool more = engine_.expire(UINT64_MAX, out);
      apply(out, 0);
      if (!more) break;
    }
    check(engine_.sessionCount() == 0, "sessions left after expire(UINT64_MAX)");
    check(held_.empty(), "held packets never released");
  }

 private:
  // Honest acknowledgement from the sender of d for the opposite stream.
  uint32_t ackFor(size_t c, Dir d) {
    Conn& k = conn_[c];
    const Side& peer = k.side[static_cast<size_t>(opposite(d))];
    if (cfg_.ackSpace == AckSpace::Original) return peer.base + peer.sent;
    if (!peer.rcvKnown) return 0;
    return peer.rcvBase + peer.rcvNext();
  }

  // Sends stream bytes from offset `from` (old ones as first sent) followed by new `payload`.
  void sendNew(size_t c, Dir d, uint32_t from, const std::string& payload, uint32_t ack,
               uint8_t flags, const std::vector<SackBlock>& sack) {
    Side& me = conn_[c].side[static_cast<size_t>(d)];
    if (me.sent < me.stream.size()) me.stream.resize(me.sent);  // an unsent gap filler
    std::string bytes = me.stream.substr(from, me.sent - from) + payload;
    me.stream += payload;
    me.sent = static_cast<uint32_t>(me.stream.size());
    send(c, d, me.base + from, ack, flags, bytes, sack, 0);
  }

  void send(size_t c, Dir d, uint32_t seq, uint32_t ack, uint8_t flags, std::string_view data,
            const std::vector<SackBlock>& sack, uint16_t mss) {
    const Conn& k = conn_[c];
    PacketBuilder pb;
    const Endpoint& src = d == Dir::C2S ? k.client : k.server;
    const Endpoint& dst = d == Dir::C2S ? k.server : k.client;
    if (v6_) {
      pb.v6(src, dst);
    } else {
      pb.v4(src, dst);
    }
    pb.seq(seq).ack(ack).flags(flags);
    if (mss != 0) pb.mss(mss);
    if (!sack.empty()) pb.nop(2).sack(std::span<const SackBlock>(sack));
    pb.payload(data);
    current_ = pb.build();
    const PacketParse pp = parsePacket(current_);
    if (pp.error != PacketError::None) return;  // e.g. too many SACK blocks for the header
    const uint64_t h = nextHandle_++;
    currentNamed_ = false;
    currentFinal_ = false;
    now_ += 1000;
    Actions out;
    check(engine_.isControl(pp.view), "isControl on a control segment");
    const uint64_t pressureBefore = endedUnderPressure();
    engine_.onSegment(Segment{&pp.view, h}, now_, out);
    // A session ended to make room (resource limits) is lost like an expired one.
    if (endedUnderPressure() != pressureBefore) {
      for (Conn& each : conn_) each.lost = true;
    }
    apply(out, h);
    check(currentNamed_, "segment not named in the call that carried it");
  }

  uint64_t endedUnderPressure() const {
    return engine_.counter(Counter::SessionEvicted) + engine_.counter(Counter::BufferReclaimed);
  }

  void expire(uint64_t now) {
    const uint64_t expired = engine_.counter(Counter::Expired);
    Actions out;
    for (int i = 0; i < 100; ++i) {
      out.clear();
      const bool more = engine_.expire(now, out);
      apply(out, 0);
      if (!more) break;
    }
    if (engine_.counter(Counter::Expired) != expired) {
      for (Conn& k : conn_) k.lost = true;
    }
  }

  void apply(const Actions& out, uint64_t current) {
    check(out.packetCount <= Actions::kMaxPackets, "packetCount beyond capacity");
    check(out.eventCount <= Actions::kMaxEvents, "eventCount beyond capacity");
    for (size_t i = 0; i < out.eventCount; ++i) checkEvent(out.events[i]);
    for (size_t i = 0; i < out.packetCount; ++i) {
      const PacketAction& a = out.packets[i];
      std::vector<uint8_t> pkt;
      if (auto it = held_.find(a.handle); it != held_.end()) {
        check(a.verdict != PacketVerdict::Hold, "held segment held again");
        pkt = std::move(it->second);
        held_.erase(it);
      } else {
        check(current != 0 && a.handle == current, "handle never given or already released");
        check(!currentFinal_, "segment given two final verdicts");
        currentNamed_ = true;
        currentFinal_ = true;
        pkt = current_;
        if (a.verdict == PacketVerdict::Hold) {
          held_[a.handle] = pkt;
          currentFinal_ = false;
          continue;
        }
      }
      switch (a.verdict) {
        case PacketVerdict::Accept:
          deliver(pkt);
          break;
        case PacketVerdict::Drop:
        case PacketVerdict::Hold:
          break;
        case PacketVerdict::Rewrite: {
          const PacketParse pp = parsePacket(pkt);
          check(pp.error == PacketError::None, "held packet no longer parses");
          check(a.sackCount == pp.view.sackCount, "SACK count differs from the packet's");
          std::vector<uint8_t> buf(pkt.size() + a.payload.size() + 64);
          const size_t n =
              rebuildPacket(pkt, pp.view, a.seq, a.ack,
                            std::span<const SackBlock>(a.sack.data(), a.sackCount), a.payload, buf);
          check(n != 0, "rebuildPacket failed");
          buf.resize(n);
          const PacketParse rp = parsePacket(buf);
          check(rp.error == PacketError::None, "rebuilt packet does not parse");
          check(tcpChecksumValid(buf, rp.view), "rebuilt packet has a bad checksum");
          check(rp.view.seq == a.seq && rp.view.ack == a.ack, "rebuilt seq/ack differ");
          check(std::equal(rp.view.payload.begin(), rp.view.payload.end(), a.payload.begin(),
                           a.payload.end()),
                "rebuilt payload differs");
          for (uint8_t j = 0; j < a.sackCount; ++j) {
            check(rp.view.sack[j] == a.sack[j], "rebuilt SACK differs");
          }
          deliver(buf);
          break;
        }
      }
    }
  }

  void checkEvent(const Event& e) {
    check(e.flow.server.port == 21, "event flow is not a control connection");
    if (e.verdict != Verdict::Admit) {
      check(!e.hasExpect, "refused event with an expectation");
      return;
    }
    const bool announcement = e.kind == EventKind::Port || e.kind == EventKind::Eprt ||
                              e.kind == EventKind::Lprt || e.kind == EventKind::Pasv227 ||
                              e.kind == EventKind::Epsv229 || e.kind == EventKind::Lpsv228;
    check(announcement, "admitted event that is not an announcement");
    check(e.hasAnnounced && e.hasExpect, "admitted event without endpoint or expectation");
    check(e.reason == Reason::Ok || e.reason == Reason::Rewritten, "admit with a refusal reason");
    const bool active =
        e.kind == EventKind::Port || e.kind == EventKind::Eprt || e.kind == EventKind::Lprt;
    check(active == (e.dir == Dir::C2S), "admitted announcement from the wrong side");
    if ((e.kind == EventKind::Lprt || e.kind == EventKind::Lpsv228) && !cfg_.allowLongForms) {
      check(false, "long form admitted while disabled");
    }
    check(e.announced.port >= 1024 || cfg_.allowLowPorts, "admitted low port");
    check(e.announced.port != 0, "admitted port 0");
    check(e.announced.addr.family == e.flow.client.addr.family, "admitted other family");
    // A peer's own address, on either side of the NAT (policy.cc).
    const IpAddr clientOut = nat_.enabled && nat_.snat ? addr(v6_, 77) : e.flow.client.addr;
    const IpAddr serverOut = nat_.enabled && nat_.dnat ? addr(v6_, 99) : e.flow.server.addr;
    const IpAddr& ownInside = active ? e.flow.client.addr : serverOut;
    const IpAddr& ownOutside = active ? clientOut : e.flow.server.addr;
    if (!cfg_.allowBounce) {
      check(e.announced.addr == ownInside || e.announced.addr == ownOutside,
            active ? "admitted PORT/EPRT naming a third host"
                   : "admitted 227/229 naming a third host");
    }
    if (e.reason == Reason::Rewritten) {
      check(e.hasRewritten && !(e.rewritten == e.announced), "rewritten without new endpoint");
      check(nat_.enabled, "rewritten without NAT");
    }
    check(e.expect.dst == (e.hasRewritten ? e.rewritten : e.announced), "expectation dst");
    // The data connection is steered to the announcing peer's own wire address.
    Endpoint natTo = e.announced;
    if (e.announced.addr == ownOutside && !(ownOutside == ownInside)) natTo.addr = ownInside;
    check(e.expect.natTo == natTo, "expectation natTo");
  }

  void deliver(const std::vector<uint8_t>& pkt) {
    const PacketParse pp = parsePacket(pkt);
    check(pp.error == PacketError::None, "delivered packet does not parse");
    const PacketView& v = pp.view;
    const Dir d = v.dport == 21 ? Dir::C2S : Dir::S2C;
    const uint16_t clientPort = d == Dir::C2S ? v.sport : v.dport;
    const size_t c = clientPort == 40001 ? 1 : 0;
    Side& s = conn_[c].side[static_cast<size_t>(d)];
    const bool checked = !dirty_ && !cfg_.evictWhenFull && !conn_[c].lost;
    if ((v.flags & TcpSyn) != 0) {
      s.rcvKnown = true;
      s.rcvBase = v.seq + 1;
      s.got.clear();
      return;
    }
    if ((v.flags & TcpRst) != 0 || !s.rcvKnown) return;
    for (size_t i = 0; i < v.payload.size(); ++i) {
      const uint32_t off = v.seq + static_cast<uint32_t>(i) - s.rcvBase;
      if (off >= kMaxTracked) continue;
      if (s.got.size() <= off) s.got.resize(off + 1, -1);
      const int16_t byte = v.payload[i];
      if (!nat_.enabled && checked) {
        // Nothing is spliced without NAT: the receiver gets what the sender sent there.
        check(off < s.stream.size() && static_cast<uint8_t>(s.stream[off]) == v.payload[i],
              "delivered byte differs from the sent one without NAT");
      }
      // Bytes the receiver already acknowledged may come back shifted in an old duplicate
      // (the engine no longer has them to render); a receiver discards them.
      if (s.got[off] >= 0 && s.got[off] != byte && off >= s.acked && checked) {
        check(false, "overlapping deliveries disagree");
      }
      if (s.got[off] < 0) s.got[off] = byte;
    }
  }

  EngineConfig cfg_;
  FuzzNat& nat_;
  Engine engine_;
  bool v6_;
  Conn conn_[2];
  uint64_t now_ = 1'000'000'000;
  uint64_t nextHandle_ = 1;
  std::map<uint64_t, std::vector<uint8_t>> held_;
  std::vector<uint8_t> current_;
  bool currentNamed_ = false;
  bool currentFinal_ = false;
  bool dirty_ = false;  // the script lied (forged acks/SACKs, other retransmitted bytes)
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(std::span<const uint8_t>(data, size));
  const uint8_t h0 = r.u8();
  const uint8_t h1 = r.u8();
  const uint8_t h2 = r.u8();
  const uint8_t h3 = r.u8();
  static constexpr size_t kLines[] = {64, 128, 512, 4096};
  // Small pools keep the engine's constructor (which allocates every buffer) cheap per run.
  static constexpr size_t kFlight[] = {0, 512, 4096, 16384};
  static constexpr size_t kBuffers[] = {1, 2, 3, 16};
  static constexpr size_t kSessions[] = {1, 2, 64, 64};
  static constexpr uint32_t kGapDrops[] = {0, 1, 3, 32};
  static constexpr uint64_t kIdle[] = {1'000'000, 1'000'000'000, 60'000'000'000, 3600'000'000'000};
  EngineConfig cfg;
  const bool v6 = (h0 & 0x80) != 0;
  cfg.ackSpace = (h0 & 2) != 0 ? AckSpace::Original : AckSpace::Rewritten;
  cfg.evictWhenFull = (h0 & 4) != 0;
  cfg.resyncOnGap = (h0 & 8) != 0;
  cfg.allowBounce = (h0 & 0x10) != 0;
  cfg.allowLowPorts = (h0 & 0x20) != 0;
  cfg.allowLongForms = (h0 & 0x40) != 0;
  cfg.maxLine = kLines[h1 & 3];
  cfg.maxInFlight = kFlight[(h1 >> 2) & 3];
  cfg.maxBufferedDirections = kBuffers[(h1 >> 4) & 3];
  cfg.maxSessions = kSessions[(h1 >> 6) & 3];
  cfg.maxExpectationsPerSession = static_cast<size_t>((h2 >> 2) & 7) + 1;
  cfg.gapDropLimit = kGapDrops[h3 & 3];
  cfg.idleTimeoutNs = kIdle[(h3 >> 2) & 3];
  cfg.closeTimeoutNs = cfg.idleTimeoutNs;
  cfg.expectTimeoutNs = cfg.idleTimeoutNs;
  const size_t sessions = (h2 & 1) != 0 ? 2 : 1;
  const uint16_t serverMss = (h2 & 0x80) != 0 ? 40 : 1460;

  FuzzNat nat;
  nat.enabled = (h0 & 1) != 0;
  nat.snat = (h2 & 0x20) != 0;
  nat.dnat = (h2 & 0x40) != 0;
  nat.v6 = v6;
  Runner run(cfg, nat, v6);
  if ((h2 & 2) != 0) {
    for (size_t c = 0; c < sessions; ++c) run.handshake(c, serverMss);
  } else {
    run.midstream();
  }
  for (int steps = 0; !r.empty() && steps < 4096; ++steps) run.step(r, sessions, serverMss);
  run.finish();
  return 0;
}
