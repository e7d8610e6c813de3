// Cost of finding a new control connection's NAT binding, at 0 and 100k conntrack entries: what
// a packet of a flow the engine does not know (a new session, or junk to port 21) costs the
// queue thread. Runs in a network namespace of its own (unshare(CLONE_NEWNET), root), filled
// through ctnetlink with bounded, throw-away entries; the namespace and its entries vanish with
// the process. Without root each benchmark is skipped.
//  - ScanNat: a GET, then a dump of the table matched in userspace: what every unknown flow
//    behind DNAT (and every junk flow) cost before the packet's own entry was used.
//  - LookupNatGet: one GET by original tuple, the fallback when a packet carries no entry.
//  - PacketCt: the binding read from the packet's NFQA_CT (no kernel query).
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <netinet/in.h>
#include <sched.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

#include "ftpalg/kernel/conntrack.h"
#include "tests/support/fake_ct_nest.h"
#include "tests/support/packet_builder.h"

namespace {

using ftpalg::kernel::CtEntry;
using ftpalg::kernel::CtTuple;
using ftpalg::test::endpoint;

constexpr uint32_t kMaxEntries = 100000;

// The control connection looked up: 10.1.0.5 behind SNAT 203.0.113.1 dials 198.51.100.7:21,
// which DNAT sends to 10.0.0.9:21.
const CtEntry kControl{{endpoint("10.1.0.5:40000"), endpoint("198.51.100.7:21")},
                       {endpoint("10.0.0.9:21"), endpoint("203.0.113.1:61000")}};
// A flow conntrack has no entry for (a junk packet without a tracked connection).
const ftpalg::core::FlowKey kJunk{endpoint("192.0.2.66:1234"), endpoint("10.0.0.9:21")};

struct CtDel {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
using Ct = std::unique_ptr<nf_conntrack, CtDel>;

// One established TCP entry with tuples `e`, 10 minutes to live.
bool createEntry(nfct_handle* h, const CtEntry& e) {
  Ct ct(nfct_new());
  if (!ct) return false;
  nf_conntrack* c = ct.get();
  nfct_set_attr_u8(c, ATTR_L3PROTO, AF_INET);
  nfct_set_attr(c, ATTR_IPV4_SRC, e.orig.src.addr.bytes.data());
  nfct_set_attr(c, ATTR_IPV4_DST, e.orig.dst.addr.bytes.data());
  nfct_set_attr(c, ATTR_REPL_IPV4_SRC, e.reply.src.addr.bytes.data());
  nfct_set_attr(c, ATTR_REPL_IPV4_DST, e.reply.dst.addr.bytes.data());
  nfct_set_attr_u8(c, ATTR_REPL_L3PROTO, AF_INET);
  nfct_set_attr_u8(c, ATTR_L4PROTO, IPPROTO_TCP);
  nfct_set_attr_u8(c, ATTR_REPL_L4PROTO, IPPROTO_TCP);
  nfct_set_attr_u16(c, ATTR_PORT_SRC, htons(e.orig.src.port));
  nfct_set_attr_u16(c, ATTR_PORT_DST, htons(e.orig.dst.port));
  nfct_set_attr_u16(c, ATTR_REPL_PORT_SRC, htons(e.reply.src.port));
  nfct_set_attr_u16(c, ATTR_REPL_PORT_DST, htons(e.reply.dst.port));
  nfct_set_attr_u8(c, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
  nfct_set_attr_u32(c, ATTR_TIMEOUT, 600);
  if (nfct_query(h, NFCT_Q_CREATE, c) == 0) return true;
  std::perror("conntrack_bench: create entry");
  return false;
}

// The namespace of this process, holding kControl and `filler` other entries. Empty string on
// success, else why the benchmarks are skipped.
const char* ensureTable(uint32_t filler) {
  static bool inNamespace = false;
  static uint32_t current = UINT32_MAX;
  if (!inNamespace) {
    if (unshare(CLONE_NEWNET) != 0) return "unshare(CLONE_NEWNET) failed (needs root)";
    inNamespace = true;
  }
  if (current == filler) return "";
  nfct_handle* h = nfct_open(CONNTRACK, 0);
  if (h == nullptr) return "ctnetlink socket";
  uint8_t family = AF_INET;
  (void)nfct_query(h, NFCT_Q_FLUSH, &family);
  bool ok = createEntry(h, kControl);
  // 10.200.0.0/16 -> 10.201.0.1:80, one entry per source address and port; no NAT.
  for (uint32_t i = 0; ok && i < filler; ++i) {
    const auto host = static_cast<uint16_t>(i / 500);
    const auto port = static_cast<uint16_t>(1024 + i % 500);
    ftpalg::core::Endpoint src = endpoint("10.200.0.0:1");
    src.addr.bytes[2] = static_cast<uint8_t>(host >> 8);
    src.addr.bytes[3] = static_cast<uint8_t>(host & 0xff);
    src.port = port;
    const ftpalg::core::Endpoint dst = endpoint("10.201.0.1:80");
    ok = createEntry(h, CtEntry{{src, dst}, {dst, src}});
  }
  nfct_close(h);
  if (!ok) return "creating conntrack entries failed (nf_conntrack_max too small?)";
  current = filler;
  return "";
}

ftpalg::core::FlowKey controlFlow() { return {kControl.orig.src, kControl.reply.src}; }

void setUp(benchmark::State& state, ftpalg::kernel::Conntrack& ct) {
  const char* why = ensureTable(static_cast<uint32_t>(state.range(0)));
  if (*why != 0) {
    state.SkipWithError(why);
    return;
  }
  if (!ct.open().ok()) state.SkipWithError("ctnetlink socket");
}

void BM_ScanNat(benchmark::State& state) {
  ftpalg::kernel::Conntrack ct;
  setUp(state, ct);
  const bool junk = state.range(1) != 0;
  for (auto _ : state) {
    ftpalg::core::NatBinding b;
    benchmark::DoNotOptimize(ct.scanNat(junk ? kJunk : controlFlow(), b).outcome);
  }
  state.counters["entries"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_ScanNat)
    ->ArgsProduct({{0, kMaxEntries}, {0, 1}})
    ->ArgNames({"entries", "junk"})
    ->Unit(benchmark::kMicrosecond);

void BM_LookupNatGet(benchmark::State& state) {
  ftpalg::kernel::Conntrack ct;
  setUp(state, ct);
  const bool junk = state.range(1) != 0;
  const CtTuple orig = junk ? CtTuple{kJunk.client, kJunk.server} : kControl.orig;
  for (auto _ : state) {
    ftpalg::core::NatBinding b;
    benchmark::DoNotOptimize(ct.lookupNat(orig, b).outcome);
  }
}
BENCHMARK(BM_LookupNatGet)
    ->ArgsProduct({{0, kMaxEntries}, {0, 1}})
    ->ArgNames({"entries", "junk"})
    ->Unit(benchmark::kMicrosecond);

void BM_PacketCt(benchmark::State& state) {
  ftpalg::kernel::Conntrack ct;
  setUp(state, ct);
  std::vector<uint8_t> nest = ftpalg::test::fakeCtNest(kControl);
  for (auto _ : state) {
    ftpalg::kernel::PacketCt p;
    ftpalg::core::NatBinding b;
    benchmark::DoNotOptimize(ftpalg::kernel::parsePacketCt(nest, ftpalg::core::Family::V4, p) &&
                             p.confirmed && ftpalg::kernel::ctEntryBinding(p.entry, b));
  }
}
BENCHMARK(BM_PacketCt)->Arg(0)->Arg(kMaxEntries)->ArgName("entries");

}  // namespace
