// counterSummary: every non-zero engine counter by name, summed over the workers' engines.
#include "daemon/counter_report.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

void feedSyn(core::Engine& engine, const char* client) {
  const auto pkt = PacketBuilder()
                       .v4(endpoint(client), endpoint("192.0.2.1:21"))
                       .seq(7)
                       .flags(core::TcpSyn)
                       .build();
  const core::PacketParse pp = core::parsePacket(pkt);
  auto out = std::make_unique<core::Actions>();
  engine.onSegment(core::Segment{&pp.view, 1}, 1, *out);
}

TEST(CounterSummary, NoneWhenNothingCounted) {
  core::Engine engine(core::EngineConfig{}, nullptr);
  const std::array<const core::Engine*, 1> engines{&engine};
  EXPECT_EQ(daemon::counterSummary(engines), "none");
}

// Two engines with one SYN each of its own flow: segments and sessions summed, named, in the
// order of core::Counter, zero counters left out.
TEST(CounterSummary, SumsNamedNonZeroCounters) {
  core::Engine a(core::EngineConfig{}, nullptr);
  core::Engine b(core::EngineConfig{}, nullptr);
  feedSyn(a, "10.0.0.1:40000");
  feedSyn(b, "10.0.0.2:40000");
  const std::array<const core::Engine*, 2> engines{&a, &b};
  const std::string text = daemon::counterSummary(engines);
  EXPECT_EQ(text.rfind("segments=2, sessions=2", 0), 0u) << text;
  EXPECT_EQ(text.find("=0"), std::string::npos) << text;
  EXPECT_EQ(text.find("session_table_full"), std::string::npos) << text;
}

}  // namespace
}  // namespace ftpalg::test
