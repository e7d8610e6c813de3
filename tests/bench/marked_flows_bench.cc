// The pinhole admitter's lookup of a liberal-marked control connection, which every
// length-changing rewrite makes (PinholeAdmitter::shifted): the hash set (MarkedFlows) against
// the linear scan over a vector it replaced, with 16 to 16384 marked flows (the per-worker cap).
// ns per lookup of a marked flow, and of one not marked (the scan then reads every entry).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "daemon/marked_flows.h"
#include "tests/support/packet_builder.h"

namespace {

using ftpalg::core::FlowKey;
using ftpalg::daemon::MarkedFlow;
using ftpalg::daemon::MarkedFlows;

FlowKey flow(uint32_t i) {
  FlowKey k{ftpalg::test::endpoint("198.18.0.2:1024"), ftpalg::test::endpoint("198.19.0.2:21")};
  k.client.addr.bytes[2] = static_cast<uint8_t>(i >> 16);
  k.client.port = static_cast<uint16_t>(1024 + (i & 0xFFFF) % 60000);
  k.client.addr.bytes[3] = static_cast<uint8_t>(2 + (i & 0xFFFF) / 60000);
  return k;
}

// The flows looked up, built before the timed loop: the marked ones, or as many never marked.
std::vector<FlowKey> probes(uint32_t n, bool miss) {
  std::vector<FlowKey> keys;
  for (uint32_t i = 0; i < n; ++i) keys.push_back(flow(miss ? n + i : i));
  return keys;
}

// Lookups of marked flows in a scattered order, and (miss) of flows never marked.
void BM_MarkedFlowsHashSet(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  const bool miss = state.range(1) != 0;
  MarkedFlows set(16384, 7);
  for (uint32_t i = 0; i < n; ++i) set.add(MarkedFlow{flow(i), i, {}});
  const std::vector<FlowKey> keys = probes(n, miss);
  uint32_t i = 0;
  for (auto _ : state) {
    i = (i + 7919) % n;
    benchmark::DoNotOptimize(set.find(keys[i]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MarkedFlowsHashSet)->ArgsProduct({{16, 1024, 16384}, {0, 1}});

// The former lookup: a scan of a vector in marking order.
void BM_MarkedFlowsLinearScan(benchmark::State& state) {
  const auto n = static_cast<uint32_t>(state.range(0));
  const bool miss = state.range(1) != 0;
  std::vector<MarkedFlow> v;
  for (uint32_t i = 0; i < n; ++i) v.push_back(MarkedFlow{flow(i), i, {}});
  const std::vector<FlowKey> keys = probes(n, miss);
  uint32_t i = 0;
  for (auto _ : state) {
    i = (i + 7919) % n;
    const FlowKey& k = keys[i];
    const MarkedFlow* found = nullptr;
    for (const MarkedFlow& m : v) {
      if (m.flow == k) {
        found = &m;
        break;
      }
    }
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MarkedFlowsLinearScan)->ArgsProduct({{16, 1024, 16384}, {0, 1}});

}  // namespace
