// The engine's resource limits from the daemon configuration: defaults, TOML keys, ranges.
#include "daemon/engine_limits.h"

#include <gtest/gtest.h>

namespace ftpalg::test {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

TEST(EngineLimits, DefaultsFitOneHundredThousandSessions) {
  daemon::DaemonConfig cfg;
  core::EngineConfig engine;
  daemon::applyEngineLimits(cfg, engine);
  EXPECT_GE(engine.maxSessions, 100'000u);
  EXPECT_EQ(engine.maxBufferedDirections, 1024u);
  EXPECT_EQ(engine.halfOpenTimeoutNs, 30 * kSecond);
  EXPECT_EQ(engine.holdTimeoutNs, 5 * kSecond);
  EXPECT_EQ(engine.maxHeldPackets, cfg.queueMaxLen / 4);
  EXPECT_FALSE(engine.failOpenWhenFull);
}

TEST(EngineLimits, KeysSetEveryLimitAndFailOpenDecidesTheFullTable) {
  daemon::DaemonConfig cfg;
  ASSERT_TRUE(daemon::applyConfigText("max_sessions = 200000\nmax_buffers = 64\n"
                                      "half_open_timeout = 10\nhold_timeout = 2\n"
                                      "max_held = 300\nfail_open = true\n",
                                      "t.toml", cfg)
                  .ok());
  core::EngineConfig engine;
  daemon::applyEngineLimits(cfg, engine);
  EXPECT_EQ(engine.maxSessions, 200'000u);
  EXPECT_EQ(engine.maxBufferedDirections, 64u);
  EXPECT_EQ(engine.halfOpenTimeoutNs, 10 * kSecond);
  EXPECT_EQ(engine.holdTimeoutNs, 2 * kSecond);
  EXPECT_EQ(engine.maxHeldPackets, 300u);
  EXPECT_TRUE(engine.failOpenWhenFull);
}

TEST(EngineLimits, OutOfRangeValuesAreErrorsWithTheirPlace) {
  for (const char* text : {"max_sessions = 0", "max_buffers = -1", "half_open_timeout = 0",
                           "hold_timeout = 99999", "max_held = \"many\""}) {
    daemon::DaemonConfig cfg;
    const Status s = daemon::applyConfigText(text, "t.toml", cfg);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.message().rfind("t.toml:1:", 0), 0u) << s.message();
  }
}

}  // namespace
}  // namespace ftpalg::test
