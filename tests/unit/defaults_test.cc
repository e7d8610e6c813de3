// The per-instance default pinhole table name (defaults::tableName: ftpalg_q<first queue>) of
// ftpalgd and of `ftpalg rules`, and --remove-table.
#include "ftpalg/defaults.h"

#include <gtest/gtest.h>

#include <string>

#include "cli/rules_cmd.h"
#include "daemon/config.h"
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

}  // namespace
}  // namespace ftpalg::test
