// Resident memory of core::Engine as the daemon sizes it (include/ftpalg/defaults.h: 131072
// session slots, 1024 direction buffers, 16384 data keys): what constructing it touches, and
// what each idle control connection adds (handshake, greeting, the client's ACK; nothing more).
// Pages a table reserves but never writes are not resident, so this is the figure the daemon's
// RSS follows, unlike the heap figures of BM_EngineFootprint (engine_bench).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "ftpalg/defaults.h"
#include "tests/support/packet_builder.h"

namespace {

using namespace ftpalg::core;
using ftpalg::test::endpoint;
using ftpalg::test::PacketBuilder;

// VmRSS of this process in bytes (/proc/self/statm: pages).
double rssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0;
  unsigned long resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) : 0;
}

// Opens idle control connection `i` (a distinct client address and port).
void openIdle(Engine& e, uint32_t i, uint64_t& now, Actions& out) {
  Endpoint client = endpoint("198.18.0.2:1024");
  client.addr.bytes[2] = static_cast<uint8_t>(i >> 16);
  client.addr.bytes[3] = static_cast<uint8_t>(2 + ((i >> 15) & 1));
  client.port = static_cast<uint16_t>(1024 + (i & 0x7FFF));
  const Endpoint server = endpoint("198.19.0.2:21");
  const std::string_view greeting = "220 ready\r\n";
  const uint32_t c = 1000;
  const uint32_t s = 5000;
  const auto g = static_cast<uint32_t>(greeting.size());
  struct P {
    bool c2s;
    uint32_t seq, ack;
    uint8_t flags;
    std::string_view text;
  };
  const P steps[] = {{true, c, 0, TcpSyn, {}},
                     {false, s, c + 1, TcpSyn | TcpAck, {}},
                     {true, c + 1, s + 1, TcpAck, {}},
                     {false, s + 1, c + 1, TcpAck | TcpPsh, greeting},
                     {true, c + 1, s + 1 + g, TcpAck, {}}};
  for (const P& p : steps) {
    PacketBuilder b;
    if (p.c2s) {
      b.v4(client, server);
    } else {
      b.v4(server, client);
    }
    b.seq(p.seq).ack(p.ack).flags(p.flags);
    if ((p.flags & TcpSyn) != 0) b.mss(1460);
    const std::vector<uint8_t> pkt = b.payload(p.text).build();
    const PacketParse pp = parsePacket(pkt);
    out.clear();
    e.onSegment(Segment{&pp.view, i}, now += 1000, out);
  }
}

void BM_EngineIdleResident(benchmark::State& state) {
  EngineConfig cfg;
  cfg.maxSessions = ftpalg::defaults::kMaxSessions;
  cfg.maxBufferedDirections = ftpalg::defaults::kMaxBuffers;
  cfg.maxDataKeys = ftpalg::defaults::kMaxDataKeys;
  const auto idle = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    const double before = rssBytes();
    auto engine = std::make_unique<Engine>(cfg, nullptr);
    const double built = rssBytes();
    Actions out;
    uint64_t now = 1'000'000'000;
    for (uint32_t i = 0; i < idle; ++i) openIdle(*engine, i, now, out);
    const double after = rssBytes();
    state.counters["engine_resident_MiB"] = (built - before) / (1024.0 * 1024.0);
    state.counters["sessions"] = static_cast<double>(engine->sessionCount());
    state.counters["resident_per_idle_session_B"] =
        idle == 0 ? 0 : (after - built) / static_cast<double>(idle);
    state.counters["session_state_bytes"] = static_cast<double>(Engine::sessionStateBytes());
    if (engine->sessionCount() != idle) state.SkipWithError("not every session was opened");
  }
}
BENCHMARK(BM_EngineIdleResident)->Arg(0)->Arg(10000)->Arg(100000)->Iterations(1);

}  // namespace
