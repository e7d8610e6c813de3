// Engine::applyPolicy (configuration reload): a changed policy acts on the next announcement
// of a session that was already open, and the session stays.
#include <gtest/gtest.h>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

TEST(EnginePolicy, LowPortRefusedThenAdmittedAfterReloadInTheSameSession) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,3,255\r\n");  // port 1023
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Refuse);
  EXPECT_EQ(h.events[0].reason, Reason::LowPort);

  EngineConfig next;
  next.allowLowPorts = true;
  h.engine().applyPolicy(next);
  h.send(Dir::S2C, "500 no\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,3,255\r\n");
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[1].verdict, Verdict::Admit);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
  EXPECT_EQ(h.engine().counter(Counter::Admitted), 1u);
}

TEST(EnginePolicy, BounceAllowedThenRefusedAgain) {
  EngineConfig open;
  open.allowBounce = true;
  EngineHarness h(open);
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,99,195,80\r\n");  // a host other than the client
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);

  h.engine().applyPolicy(EngineConfig{});
  h.send(Dir::S2C, "200 ok\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,99,195,81\r\n");
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[1].verdict, Verdict::Refuse);
  EXPECT_EQ(h.events[1].reason, Reason::BounceAddress);
  EXPECT_EQ(h.engine().sessionCount(), 1u);
}

TEST(EnginePolicy, IdleTimeoutTakesEffectForOpenSessions) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  Actions out;
  (void)h.engine().expire(h.nowNs + 20'000'000'000, out);  // 20 s later: default idle is 1 h
  EXPECT_EQ(h.engine().sessionCount(), 1u);

  EngineConfig next;
  next.idleTimeoutNs = 10'000'000'000;
  h.engine().applyPolicy(next);
  (void)h.engine().expire(h.nowNs + 20'000'000'000, out);
  EXPECT_EQ(h.engine().sessionCount(), 0u);
}

TEST(EnginePolicy, SizesStayAsConstructed) {
  EngineHarness h(EngineConfig{});
  EngineConfig next;
  next.maxSessions = 1;
  next.controlPorts = {2121, 0, 0, 0, 0, 0, 0, 0};
  h.engine().applyPolicy(next);
  h.handshake();  // port 21 is still a control port
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
}

}  // namespace
}  // namespace ftpalg::test
