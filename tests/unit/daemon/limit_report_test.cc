// LimitReport: one warning per expiry pass with what grew, nothing when nothing did.
#include "daemon/limit_report.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

// A table of one session, full of an established session: every SYN of another flow is
// counted as session_table_full.
TEST(LimitReport, OneLinePerPassWithTheIncrease) {
  core::EngineConfig cfg;
  cfg.maxSessions = 1;
  core::Engine engine(cfg, nullptr);
  auto out = std::make_unique<core::Actions>();
  const auto feed = [&](const char* client, uint8_t flags, uint32_t seq, std::string_view data) {
    const auto pkt = PacketBuilder()
                         .v4(endpoint(client), endpoint("192.0.2.1:21"))
                         .seq(seq)
                         .flags(flags)
                         .payload(data)
                         .build();
    const core::PacketParse pp = core::parsePacket(pkt);
    out->clear();
    engine.onSegment(core::Segment{&pp.view, 1}, 1, *out);
  };
  const auto serverSays = [&](const char* client, uint32_t seq, std::string_view data) {
    const auto pkt = PacketBuilder()
                         .v4(endpoint("192.0.2.1:21"), endpoint(client))
                         .seq(seq)
                         .flags(core::TcpAck | core::TcpPsh)
                         .payload(data)
                         .build();
    const core::PacketParse pp = core::parsePacket(pkt);
    out->clear();
    engine.onSegment(core::Segment{&pp.view, 1}, 1, *out);
  };
  // Established by payload both ways (picked up mid-stream).
  feed("10.0.0.1:40000", core::TcpAck | core::TcpPsh, 100, "NOOP\r\n");
  serverSays("10.0.0.1:40000", 500, "200 ok\r\n");
  daemon::WorkerStats st;
  daemon::WorkerLog log(3, st);
  daemon::LimitReport report;
  ::testing::internal::CaptureStderr();
  EXPECT_FALSE(report.report(engine, log, 1));
  for (int i = 0; i < 5; ++i) feed("10.0.0.2:40000", core::TcpSyn, 7, "");
  EXPECT_TRUE(report.report(engine, log, 2));
  EXPECT_FALSE(report.report(engine, log, 3));
  EXPECT_EQ(st.limitsHit.load(), 5u);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("queue 3: resource limits: session_table_full +5\n"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace ftpalg::test
