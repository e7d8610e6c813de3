// Steady-state cost of core::Engine on an established control connection: ns per segment for
// a plain exchange, a PORT rewrite (SNAT) and a 227 rewrite (DNAT), control-stream throughput
// on a long multi-line reply, heap allocations per segment (must be 0 after warm-up), and the
// memory an idle session and a buffered direction cost.
//
// Every packet is built and parsed before the timed loop. A conversation of many exchanges is
// replayed over and over; between two passes every seq/ack field of the parsed views moves on
// by the bytes one pass carried (in the original and in the rewritten space), so the engine
// sees one ever-advancing connection. Each benchmark iteration is one segment handed to
// onSegment, so Time is ns per segment. Figures are printed, never asserted; a desynchronised
// replay (drops, refusals) is reported as a benchmark error.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"

namespace {

using namespace ftpalg::core;
using ftpalg::test::endpoint;
using ftpalg::test::ipFromText;
using ftpalg::test::PacketBuilder;

const Endpoint kClient = endpoint("198.18.0.2:40000");
const Endpoint kServer = endpoint("198.19.0.2:21");

class FixedNat : public NatResolver {
 public:
  explicit FixedNat(const NatBinding& b, bool on) : binding_(b), on_(on) {}
  bool resolve(const FlowKey&, NatBinding& out) override {
    out = binding_;
    return on_;
  }

 private:
  NatBinding binding_;
  bool on_;
};

NatBinding noNat() { return NatBinding{kClient.addr, kClient.addr, kServer.addr, kServer.addr}; }
NatBinding snat() {
  return NatBinding{kClient.addr, ipFromText("198.51.100.7"), kServer.addr, kServer.addr};
}
NatBinding dnat() {
  return NatBinding{kClient.addr, kClient.addr, kServer.addr, ipFromText("10.0.0.9")};
}

// One message of the conversation. `growth` is how much longer the rewritten text is; a
// message with empty text is a pure ACK.
struct Msg {
  Dir dir;
  std::string text;
  int32_t growth = 0;
};

// A prebuilt conversation after the handshake, replayable pass after pass.
class Conversation {
 public:
  Conversation(const std::vector<Msg>& msgs, size_t repeat) {
    const uint32_t cIsn = 0xFFFF0000u;  // wraps within the first passes
    const uint32_t sIsn = 77;
    handshake_.push_back(build(Dir::C2S, cIsn, 0, TcpSyn, {}, 1460));
    handshake_.push_back(build(Dir::S2C, sIsn, cIsn + 1, TcpSyn | TcpAck, {}, 1460));
    handshake_.push_back(build(Dir::C2S, cIsn + 1, sIsn + 1, TcpAck, {}, 0));
    // The greeting, so that the pairing of commands and replies starts in step.
    const std::string_view greeting = "220 ready\r\n";
    const auto g = static_cast<uint32_t>(greeting.size());
    handshake_.push_back(build(Dir::S2C, sIsn + 1, cIsn + 1, TcpAck | TcpPsh, greeting, 0));
    handshake_.push_back(build(Dir::C2S, cIsn + 1, sIsn + 1 + g, TcpAck, {}, 0));
    const uint32_t c0 = cIsn + 1;
    const uint32_t s0 = sIsn + 1 + g;
    uint32_t pos[2][2] = {{c0, c0}, {s0, s0}};  // [dir][orig, rewritten]
    for (size_t r = 0; r < repeat; ++r) {
      for (const Msg& m : msgs) {
        const auto d = static_cast<size_t>(m.dir);
        const auto o = static_cast<size_t>(opposite(m.dir));
        const uint8_t flags = m.text.empty() ? TcpAck : TcpAck | TcpPsh;
        packets_.push_back(build(m.dir, pos[d][0], pos[o][1], flags, m.text, 0));
        fromClient_.push_back(m.dir == Dir::C2S);
        const auto len = static_cast<uint32_t>(m.text.size());
        pos[d][0] += len;
        pos[d][1] += len + static_cast<uint32_t>(m.growth);
        payloadBytes_ += len;
      }
    }
    shift_[0][0] = pos[0][0] - c0;
    shift_[0][1] = pos[0][1] - c0;
    shift_[1][0] = pos[1][0] - s0;
    shift_[1][1] = pos[1][1] - s0;
    for (const auto& p : handshake_) handshakeViews_.push_back(parsePacket(p).view);
    for (const auto& p : packets_) views_.push_back(parsePacket(p).view);
  }

  // Hands the handshake to the engine.
  void open(Engine& e, uint64_t& now, Actions& out) {
    for (const PacketView& v : handshakeViews_) {
      out.clear();
      e.onSegment(Segment{&v, ++handle_}, now += 1000, out);
    }
  }

  // Gives the next segment to the engine; moves every view on after a full pass.
  void next(Engine& e, uint64_t& now, Actions& out) {
    out.clear();
    e.onSegment(Segment{&views_[i_], ++handle_}, now += 1000, out);
    if (++i_ == views_.size()) {
      i_ = 0;
      for (size_t k = 0; k < views_.size(); ++k) {
        const size_t d = fromClient_[k] ? 0 : 1;
        views_[k].seq += shift_[d][0];
        views_[k].ack += shift_[1 - d][1];
      }
    }
  }

  [[nodiscard]] size_t segmentsPerPass() const { return views_.size(); }
  [[nodiscard]] size_t payloadBytesPerPass() const { return payloadBytes_; }

 private:
  static std::vector<uint8_t> build(Dir d, uint32_t seq, uint32_t ack, uint8_t flags,
                                    std::string_view text, uint16_t mss) {
    PacketBuilder b;
    if (d == Dir::C2S) {
      b.v4(kClient, kServer);
    } else {
      b.v4(kServer, kClient);
    }
    b.seq(seq).ack(ack).flags(flags).nop().nop().timestamps(1000, 2000);
    if (mss != 0) b.mss(mss);
    return b.payload(text).build();
  }

  std::vector<std::vector<uint8_t>> handshake_;
  std::vector<PacketView> handshakeViews_;
  std::vector<std::vector<uint8_t>> packets_;
  std::vector<PacketView> views_;
  std::vector<bool> fromClient_;
  uint32_t shift_[2][2] = {};  // [dir][orig, rewritten] bytes per pass
  size_t payloadBytes_ = 0;
  size_t i_ = 0;
  uint64_t handle_ = 0;
};

// Counters that must not move in a healthy replay: "" or the names of those that moved.
std::string trouble(const Engine& e) {
  std::string names;
  for (Counter c :
       {Counter::OutOfOrderDropped, Counter::RetransmitMismatch, Counter::BufferOverflow,
        Counter::PoolExhausted, Counter::SeqAdjFull, Counter::Refused, Counter::RewriteExceedsMss,
        Counter::GapResync, Counter::Retransmissions}) {
    if (e.counter(c) != 0)
      names += std::string(names.empty() ? "" : ",") + std::string(counterName(c));
  }
  return names;
}

void runConversation(benchmark::State& state, const std::vector<Msg>& msgs, const NatBinding& nat,
                     bool natOn) {
  EngineConfig cfg;
  cfg.expectTimeoutNs = 1;  // expectations lapse at once: the per-session limit never bites
  FixedNat resolver(nat, natOn);
  Engine engine(cfg, &resolver);
  Conversation conv(msgs, 64);
  Actions out;
  uint64_t now = 1'000'000'000;
  conv.open(engine, now, out);
  // Warm-up: several passes, so every pooled buffer and the session slot are in use before
  // allocations are counted.
  for (size_t i = 0; i < 4 * conv.segmentsPerPass(); ++i) conv.next(engine, now, out);
  const uint64_t segments0 = engine.counter(Counter::Segments);
  const uint64_t rewrites0 = engine.counter(Counter::Rewrites);
  const uint64_t admitted0 = engine.counter(Counter::Admitted);
  const ftpalg::bench::AllocCounter allocs;
  for (auto _ : state) {
    conv.next(engine, now, out);
    benchmark::DoNotOptimize(out.packetCount);
  }
  const double segs = static_cast<double>(engine.counter(Counter::Segments) - segments0);
  state.counters["allocs_per_segment"] = allocs.perIteration(state.iterations());
  state.counters["rewrites_per_segment"] =
      static_cast<double>(engine.counter(Counter::Rewrites) - rewrites0) / segs;
  state.counters["admitted_per_segment"] =
      static_cast<double>(engine.counter(Counter::Admitted) - admitted0) / segs;
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(conv.payloadBytesPerPass()) /
                          static_cast<int64_t>(conv.segmentsPerPass()));
  if (const std::string t = trouble(engine); !t.empty()) {
    state.SkipWithError(("replay desynchronised: " + t).c_str());
  }
}

// (a) NOOP / 200 / ACK: a control segment without an announcement.
void BM_EngineNoopExchange(benchmark::State& state) {
  runConversation(state, {{Dir::C2S, "NOOP\r\n"}, {Dir::S2C, "200 NOOP ok\r\n"}, {Dir::C2S, ""}},
                  noNat(), false);
}
BENCHMARK(BM_EngineNoopExchange);

// (b) PORT rewritten for SNAT (grows by 2 bytes), its reply and an ACK.
void BM_EnginePortRewrite(benchmark::State& state) {
  runConversation(state,
                  {{Dir::C2S, "PORT 198,18,0,2,195,80\r\n", 2},
                   {Dir::S2C, "200 PORT command successful\r\n"},
                   {Dir::C2S, ""}},
                  snat(), true);
}
BENCHMARK(BM_EnginePortRewrite);

// (c) PASV and a 227 rewritten for DNAT (grows by 2 bytes), and the client's ACK.
void BM_EnginePasv227Rewrite(benchmark::State& state) {
  runConversation(state,
                  {{Dir::C2S, "PASV\r\n"},
                   {Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64).\r\n", 2},
                   {Dir::C2S, ""}},
                  dnat(), true);
}
BENCHMARK(BM_EnginePasv227Rewrite);

// (d) Control-stream throughput: STAT answered by a ~16 KB multi-line 211 reply in full-size
// segments (lines cut at segment ends), the client ACKing every second segment.
std::vector<Msg> statConversation() {
  std::string reply = "211-FTP server status:\r\n";
  for (int i = 0; reply.size() < 16000; ++i) {
    reply += "     Connected to 198.18.0.2, session " + std::to_string(i) +
             ", logged in as anonymous, TYPE: ASCII\r\n";
  }
  reply += "211 End of status\r\n";
  std::vector<Msg> msgs = {{Dir::C2S, "STAT\r\n"}};
  constexpr size_t kSegment = 1448;
  size_t n = 0;
  for (size_t pos = 0; pos < reply.size(); pos += kSegment) {
    msgs.push_back({Dir::S2C, reply.substr(pos, kSegment)});
    if (++n % 2 == 0) msgs.push_back({Dir::C2S, ""});
  }
  if (n % 2 != 0) msgs.push_back({Dir::C2S, ""});
  return msgs;
}

void BM_EngineStatReplyThroughput(benchmark::State& state) {
  runConversation(state, statConversation(), noNat(), false);
}
BENCHMARK(BM_EngineStatReplyThroughput);

// (f) Memory: the session slot (Engine::sessionStateBytes) and what one more session slot or
// one more pooled direction buffer adds to the heap (glibc mallinfo2, constructor-time
// allocations only; the packet path allocates nothing).
size_t heapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

double heapPer(size_t EngineConfig::*field, size_t lo, size_t hi) {
  EngineConfig a;
  a.*field = lo;
  EngineConfig b;
  b.*field = hi;
  const size_t before = heapInUse();
  size_t small = 0;
  size_t large = 0;
  {
    Engine e(a, nullptr);
    small = heapInUse() - before;
  }
  {
    Engine e(b, nullptr);
    large = heapInUse() - before;
  }
  return static_cast<double>(large - small) / static_cast<double>(hi - lo);
}

void BM_EngineFootprint(benchmark::State& state) {
  const double perSession = heapPer(&EngineConfig::maxSessions, 1024, 1024 + 4096);
  const double perBuffer = heapPer(&EngineConfig::maxBufferedDirections, 16, 16 + 256);
  for (auto _ : state) benchmark::DoNotOptimize(Engine::sessionStateBytes());
  const EngineConfig defaults;
  state.counters["session_state_bytes"] = static_cast<double>(Engine::sessionStateBytes());
  state.counters["heap_per_session_slot"] = perSession;  // slot + its share of the index
  state.counters["heap_per_buffered_dir"] = perBuffer;
  state.counters["default_engine_heap_MB"] =
      (static_cast<double>(defaults.maxSessions) * perSession +
       static_cast<double>(defaults.maxBufferedDirections) * perBuffer) /
      (1024.0 * 1024.0);
}
BENCHMARK(BM_EngineFootprint)->Iterations(1);

}  // namespace
