// Cost of the packet layer on a typical 80-byte FTP control packet (TCP with timestamps):
// parsePacket and rebuildPacket, IPv4 and IPv6, with heap allocations per iteration.
#include <benchmark/benchmark.h>

#include <array>
#include <string_view>
#include <vector>

#include "alloc_counter.h"
#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"

namespace {

using ftpalg::core::PacketError;
using ftpalg::test::endpoint;
using ftpalg::test::PacketBuilder;

std::vector<uint8_t> controlPacket(bool v6) {
  PacketBuilder b;
  if (v6) {
    b.v6(endpoint("[2001:db8::1]:40000"), endpoint("[2001:db8:1::21]:21"))
        .payload("EPSV 2\r\n");  // 40 + 32 + 8 = 80 bytes
  } else {
    b.v4(endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21"))
        .payload("PORT 192,168,100,20,156,65\r\n");  // 20 + 32 + 28 = 80 bytes
  }
  return b.seq(1000)
      .ack(2000)
      .flags(ftpalg::core::TcpAck | ftpalg::core::TcpPsh)
      .nop()
      .nop()
      .timestamps(123456, 654321)
      .build();
}

void BM_ParsePacket(benchmark::State& state) {
  const std::vector<uint8_t> pkt = controlPacket(state.range(0) == 6);
  const ftpalg::bench::AllocCounter allocs;
  for (auto _ : state) {
    ftpalg::core::PacketParse r = ftpalg::core::parsePacket(pkt);
    benchmark::DoNotOptimize(r);
  }
  state.counters["allocs_per_iter"] = allocs.perIteration(state.iterations());
  state.counters["bytes"] = static_cast<double>(pkt.size());
  if (ftpalg::core::parsePacket(pkt).error != PacketError::None) state.SkipWithError("parse");
}
BENCHMARK(BM_ParsePacket)->Arg(4)->Arg(6);

void BM_RebuildPacket(benchmark::State& state) {
  const bool v6 = state.range(0) == 6;
  const std::vector<uint8_t> pkt = controlPacket(v6);
  const ftpalg::core::PacketParse r = ftpalg::core::parsePacket(pkt);
  if (r.error != PacketError::None) {
    state.SkipWithError("parse");
    return;
  }
  const std::string_view text = v6 ? "EPSV 1\r\n" : "PORT 203,0,113,200,156,65\r\n";
  const std::span<const uint8_t> payload(reinterpret_cast<const uint8_t*>(text.data()),
                                         text.size());
  std::array<uint8_t, 256> out{};
  uint32_t seq = r.view.seq;
  const ftpalg::bench::AllocCounter allocs;
  for (auto _ : state) {
    const size_t n = ftpalg::core::rebuildPacket(pkt, r.view, ++seq, r.view.ack, {}, payload, out);
    benchmark::DoNotOptimize(n);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["allocs_per_iter"] = allocs.perIteration(state.iterations());
  state.counters["bytes"] = static_cast<double>(pkt.size());
}
BENCHMARK(BM_RebuildPacket)->Arg(4)->Arg(6);

void BM_TcpChecksumValid(benchmark::State& state) {
  const std::vector<uint8_t> pkt = controlPacket(state.range(0) == 6);
  const ftpalg::core::PacketParse r = ftpalg::core::parsePacket(pkt);
  const ftpalg::bench::AllocCounter allocs;
  for (auto _ : state) {
    bool ok = ftpalg::core::tcpChecksumValid(pkt, r.view);
    benchmark::DoNotOptimize(ok);
  }
  state.counters["allocs_per_iter"] = allocs.perIteration(state.iterations());
}
BENCHMARK(BM_TcpChecksumValid)->Arg(4)->Arg(6);

}  // namespace
