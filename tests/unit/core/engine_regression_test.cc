// Engine regressions found by tests/fuzz/engine_fuzz.cc, one named test each.
#include <gtest/gtest.h>

#include <string>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

// Data sent after the FIN's sequence number used to be appended to the flight buffer one byte
// out of place (the FIN occupies a number but no byte), and a later retransmission compared
// past the end of the buffer. Such data is now refused as evasion.
TEST(EngineRegression, DataAfterFinIsRefusedAndNeverReadPastTheFlightBuffer) {
  EngineConfig cfg;
  cfg.maxLine = 64;
  cfg.maxInFlight = 128;  // one buffer of exactly 128 bytes
  cfg.maxBufferedDirections = 1;
  EngineHarness h(cfg, {.autoAck = false});
  h.handshake();
  const uint32_t start = h.sndNext(Dir::C2S);
  const std::string lines = std::string(126, 'x') + "\r\n";  // fills the flight buffer
  h.sendAt(Dir::C2S, start, lines, TcpFin | TcpAck | TcpPsh);
  const size_t drops = h.drops;
  // The same bytes again, one more where the FIN was, and more after it.
  h.sendAt(Dir::C2S, start, lines + "NOOP\r\n");
  EXPECT_EQ(h.drops, drops + 1);
  ASSERT_FALSE(h.events.empty());
  EXPECT_EQ(h.events.back().kind, EventKind::Evasion);
  EXPECT_EQ(h.events.back().reason, Reason::RetransmitMismatch);
  EXPECT_EQ(h.delivered(Dir::C2S), lines);
  EXPECT_EQ(h.inconsistentOverlaps, 0u);
}

}  // namespace
}  // namespace ftpalg::test
