// The engine's screening steps (engine_screen.cc) for retransmissions that reach back over a
// rewrite already acknowledged: such bytes are rendered from history or dropped, and never leave
// with the original address at a shifted sequence number. (SYN and RST: tcp_window_test.cc.)
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

constexpr std::string_view kPort = "PORT 198,18,0,2,195,80\r\n";
constexpr std::string_view kPrivate = "198,18,0,2";

// SNAT with a longer public address, so the rewrite shifts every later sequence number.
void connect(EngineHarness& h) {
  h.setNat(
      NatBinding{h.client().addr, ipFromText("198.51.100.77"), h.server().addr, h.server().addr});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
}

// True when some packet left carrying the private address.
bool leaked(const EngineHarness& h) {
  for (const std::string& p : h.wire) {
    if (p.find(kPrivate) != std::string::npos) return true;
  }
  return false;
}

TEST(EngineScreen, RetransmissionOfAnAcknowledgedRewriteIsDropped) {
  EngineHarness h(EngineConfig{});
  connect(h);
  const uint32_t at = h.sndNext(Dir::C2S);
  h.send(Dir::C2S, kPort);  // delivered rewritten and acknowledged at once
  const size_t accepted = h.actions.size();
  h.sendAt(Dir::C2S, at, kPort);  // the acknowledgement was lost beyond the gateway
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
  EXPECT_FALSE(leaked(h));
  bool forwardedAsIs = false;
  for (size_t i = accepted; i < h.actions.size(); ++i) {
    forwardedAsIs |= h.actions[i].verdict == PacketVerdict::Accept && h.actions[i].payload.size();
  }
  EXPECT_FALSE(forwardedAsIs);
  EXPECT_EQ(h.engine().counter(Counter::AckedRetransmitDropped), 1u);
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,77,195,80\r\n");
}

TEST(EngineScreen, RetransmissionWithNewBytesIsSentFromHistoryWithoutItsAcknowledgedFront) {
  EngineHarness h(EngineConfig{});
  connect(h);
  const uint32_t at = h.sndNext(Dir::C2S);
  h.send(Dir::C2S, kPort);
  // The sender repacketises: the acknowledged PORT line again, with a new command after it.
  h.sendAt(Dir::C2S, at, std::string(kPort) + "NOOP\r\n");
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
  EXPECT_FALSE(leaked(h));
  EXPECT_EQ(h.engine().counter(Counter::AckedRetransmitTrimmed), 1u);
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,77,195,80\r\nNOOP\r\n");
}

TEST(EngineScreen, RetransmissionAfterTheForgottenRewriteIsForwardedAsBefore) {
  EngineHarness h(EngineConfig{});
  connect(h);
  h.send(Dir::C2S, kPort);
  const uint32_t at = h.sndNext(Dir::C2S);
  h.send(Dir::C2S, "NOOP\r\n");
  h.sendAt(Dir::C2S, at, "NOOP\r\n");  // old, but after the rewrite: the base delta is exact
  EXPECT_EQ(h.engine().counter(Counter::AckedRetransmitDropped), 0u);
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
  EXPECT_EQ(h.delivered(Dir::C2S), "PORT 198,51,100,77,195,80\r\nNOOP\r\n");
}

TEST(EngineScreen, WithKernelSequenceAdjustmentSuchARetransmissionIsDropped) {
  EngineConfig cfg;
  cfg.kernelSeqAdjust = true;
  EngineHarness h(cfg);
  connect(h);
  const uint32_t at = h.sndNext(Dir::C2S);
  h.send(Dir::C2S, kPort);
  const size_t before = h.actions.size();
  h.sendAt(Dir::C2S, at, std::string(kPort) + "NOOP\r\n");
  ASSERT_GT(h.actions.size(), before);
  EXPECT_EQ(h.actions[before].verdict, PacketVerdict::Drop);
  EXPECT_FALSE(leaked(h));
  EXPECT_EQ(h.engine().counter(Counter::AckedRetransmitDropped), 1u);
}

}  // namespace
}  // namespace ftpalg::test
