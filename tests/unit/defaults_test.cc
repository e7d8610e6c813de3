// Defaults: the per-instance pinhole table name (defaults::tableName: ftpalg_q<first queue>)
// of ftpalgd and of `ftpalg rules`, and --remove-table; and the engine limits of defaults.h
// that became config keys (max_line, max_in_flight,
// max_expectations, idle_timeout, close_timeout, max_held_per_direction, gap_drop_limit):
// defaults equal the engine's own, each key reaches the engine, each bound of defaults.h is
// enforced, and each range error names its place as file:line:col.
// g++ 12 at -O2 reports a false -Wnull-dereference inside inlined std::string code here (as in
// src/cli/main.cc); the test has no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "ftpalg/defaults.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "cli/rules_cmd.h"
#include "daemon/config.h"
#include "daemon/engine_limits.h"
#include "daemon/worker_settings.h"

namespace ftpalg::test {
namespace {

daemon::CommandLine parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"ftpalgd"};
  argv.insert(argv.end(), args.begin(), args.end());
  daemon::CommandLine cl;
  EXPECT_TRUE(daemon::parseCommandLine(static_cast<int>(argv.size()), argv.data(), cl).ok());
  return cl;
}

TEST(TableName, IsPerQueue) {
  EXPECT_EQ(defaults::tableName(0), "ftpalg_q0");
  EXPECT_EQ(defaults::tableName(65535), "ftpalg_q65535");
}

TEST(TableName, DaemonDefaultNamesTheFirstQueue) {
  EXPECT_EQ(parse({}).config.table, "ftpalg_q0");
  EXPECT_EQ(parse({"--queues", "4-7"}).config.table, "ftpalg_q4");
  const daemon::CommandLine cl = parse({"--queues", "2"});
  EXPECT_EQ(daemon::workerSettings(cl.config, 2).pinhole.table, "ftpalg_q2");
  EXPECT_FALSE(cl.removeTable);
}

TEST(TableName, ConfiguredNameWins) {
  daemon::DaemonConfig cfg;
  ASSERT_TRUE(daemon::applyConfigText("table = \"edge\"\n", "t.toml", cfg).ok());
  EXPECT_EQ(cfg.table, "edge");
  EXPECT_EQ(daemon::workerSettings(cfg, 0).pinhole.table, "edge");
}

TEST(TableName, UnresolvedConfigStillGetsThePerQueueName) {
  daemon::DaemonConfig cfg;
  cfg.queues = {9};
  EXPECT_EQ(daemon::workerSettings(cfg, 9).pinhole.table, "ftpalg_q9");
}

TEST(TableName, RemoveTableFlag) { EXPECT_TRUE(parse({"--remove-table"}).removeTable); }

TEST(TableName, RulesCommandDefaultFollowsQueues) {
  cli::RulesOptions o;
  o.queues = "1-2";
  cli::RulesRequest r;
  ASSERT_TRUE(cli::makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.pinhole.table, "ftpalg_q1");
}

constexpr uint64_t kSecond = 1'000'000'000;

TEST(EngineLimitKeys, DefaultsAreTheEnginesOwn) {
  const core::EngineConfig stock;
  core::EngineConfig engine;
  daemon::applyEngineLimits(daemon::DaemonConfig{}, engine);
  EXPECT_EQ(engine.maxLine, stock.maxLine);
  EXPECT_EQ(engine.maxInFlight, stock.maxInFlight);
  EXPECT_EQ(engine.maxExpectationsPerSession, stock.maxExpectationsPerSession);
  EXPECT_EQ(engine.idleTimeoutNs, stock.idleTimeoutNs);
  EXPECT_EQ(engine.closeTimeoutNs, stock.closeTimeoutNs);
  EXPECT_EQ(engine.maxHeldPerDirection, stock.maxHeldPerDirection);
  EXPECT_EQ(engine.gapDropLimit, stock.gapDropLimit);
}

TEST(EngineLimitKeys, EveryKeyReachesTheEngine) {
  daemon::DaemonConfig cfg;
  const Status s = daemon::applyConfigText(
      "max_line = 1024\nmax_in_flight = 8192\nmax_expectations = 4\nidle_timeout = 600\n"
      "close_timeout = 3\nmax_held_per_direction = 16\ngap_drop_limit = 100\n",
      "t.toml", cfg);
  ASSERT_TRUE(s.ok()) << s.message();
  core::EngineConfig engine;
  daemon::applyEngineLimits(cfg, engine);
  EXPECT_EQ(engine.maxLine, 1024u);
  EXPECT_EQ(engine.maxInFlight, 8192u);
  EXPECT_EQ(engine.maxExpectationsPerSession, 4u);
  EXPECT_EQ(engine.idleTimeoutNs, 600 * kSecond);
  EXPECT_EQ(engine.closeTimeoutNs, 3 * kSecond);
  EXPECT_EQ(engine.maxHeldPerDirection, 16u);
  EXPECT_EQ(engine.gapDropLimit, 100u);
}

TEST(EngineLimitKeys, BoundsAreAccepted) {
  for (const char* text :
       {"max_line = 64", "max_line = 4096\nmax_in_flight = 8192", "max_in_flight = 1024",
        "max_line = 64\nmax_in_flight = 128", "max_in_flight = 1048576", "max_expectations = 1",
        "max_expectations = 8", "idle_timeout = 10", "idle_timeout = 604800", "close_timeout = 1",
        "close_timeout = 3600", "max_held_per_direction = 1", "max_held_per_direction = 32",
        "gap_drop_limit = 1", "gap_drop_limit = 1024"}) {
    daemon::DaemonConfig cfg;
    const Status s = daemon::applyConfigText(text, "t.toml", cfg);
    EXPECT_TRUE(s.ok()) << text << ": " << s.message();
  }
}

// One case per key and side of its range: the message names file, line, column and range.
TEST(EngineLimitKeys, RangeErrorsCarryFileLineColumn) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"max_line = 63\n", "t.toml:1:12: 'max_line' must be an integer 64..4096"},
      {"max_line = 4097\n", "t.toml:1:12: 'max_line' must be an integer 64..4096"},
      {"max_in_flight = 127\n", "t.toml:1:17: 'max_in_flight' must be an integer 128..1048576"},
      {"max_in_flight = 1048577\n", "t.toml:1:17: 'max_in_flight' must be an integer 128..1048576"},
      {"\nmax_expectations = 0\n", "t.toml:2:20: 'max_expectations' must be an integer 1..8"},
      {"max_expectations = 9\n", "t.toml:1:20: 'max_expectations' must be an integer 1..8"},
      {"idle_timeout = 9\n", "t.toml:1:16: 'idle_timeout' must be an integer 10..604800"},
      {"idle_timeout = 604801\n", "t.toml:1:16: 'idle_timeout' must be an integer 10..604800"},
      {"close_timeout = 0\n", "t.toml:1:17: 'close_timeout' must be an integer 1..3600"},
      {"close_timeout = 3601\n", "t.toml:1:17: 'close_timeout' must be an integer 1..3600"},
      {"max_held_per_direction = 0\n",
       "t.toml:1:26: 'max_held_per_direction' must be an integer 1..32"},
      {"max_held_per_direction = 33\n",
       "t.toml:1:26: 'max_held_per_direction' must be an integer 1..32"},
      {"gap_drop_limit = 0\n", "t.toml:1:18: 'gap_drop_limit' must be an integer 1..1024"},
      {"gap_drop_limit = 1025\n", "t.toml:1:18: 'gap_drop_limit' must be an integer 1..1024"},
      {"max_line = \"512\"\n", "t.toml:1:12: 'max_line' must be an integer 64..4096"},
      {"idle_timeout = -1\n", "t.toml:1:16: 'idle_timeout' must be an integer 10..604800"},
      // Cross-key: the in-flight window holds at least two whole lines (the engine's rule).
      {"max_line = 4096\nmax_in_flight = 4096\n",
       "t.toml:2:17: 'max_in_flight' (4096) must be at least twice 'max_line' (4096)"},
      {"max_line = 2049\n",
       "t.toml:1:12: 'max_in_flight' (4096) must be at least twice 'max_line' (2049)"},
  };
  for (const Case& c : cases) {
    daemon::DaemonConfig cfg;
    const Status s = daemon::applyConfigText(c.text, "t.toml", cfg);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.message(), c.want) << c.text;
    EXPECT_EQ(cfg.maxLine, defaults::kMaxLine) << "config changed on error: " << c.text;
  }
}

TEST(EngineLimitKeys, AreKnownKeys) {
  const std::vector<std::string_view> keys = daemon::configKeys();
  for (const char* k : {"max_line", "max_in_flight", "max_expectations", "idle_timeout",
                        "close_timeout", "max_held_per_direction", "gap_drop_limit"}) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
  }
}

// max_data_keys (the engine's outstanding-announcement table, EngineConfig::maxDataKeys).
TEST(EngineLimitKeys, MaxDataKeys) {
  core::EngineConfig engine;
  daemon::applyEngineLimits(daemon::DaemonConfig{}, engine);
  EXPECT_EQ(engine.maxDataKeys, core::EngineConfig{}.maxDataKeys);
  daemon::DaemonConfig cfg;
  ASSERT_TRUE(daemon::applyConfigText("max_data_keys = 1000\n", "t.toml", cfg).ok());
  daemon::applyEngineLimits(cfg, engine);
  EXPECT_EQ(engine.maxDataKeys, 1000u);
  for (const char* text : {"max_data_keys = 15\n", "max_data_keys = 262145\n"}) {
    daemon::DaemonConfig bad;
    const Status s = daemon::applyConfigText(text, "t.toml", bad);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.message(), "t.toml:1:17: 'max_data_keys' must be an integer 16..262144") << text;
  }
}

}  // namespace
}  // namespace ftpalg::test
