// Worker settings from the configuration of sessions that outlive the process: state_dir and
// session_mark, as keys and as flags, and where they end up (worker settings, queue rules).
// g++ 12 at -O2 reports a false -Wnull-dereference inside inlined std::string code here (as in
// config_test.cc); the test has no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "daemon/worker_settings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/config.h"
#include "daemon/queue_rules.h"

namespace ftpalg::test {
namespace {

using namespace ftpalg::daemon;  // NOLINT(google-build-using-namespace): the unit under test

Status parse(std::vector<std::string> args, CommandLine& out) {
  args.insert(args.begin(), "ftpalgd");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return parseCommandLine(static_cast<int>(argv.size()), argv.data(), out);
}

TEST(ConfigState, Defaults) {
  const DaemonConfig cfg;
  EXPECT_EQ(cfg.stateDir, "/run/ftpalg");
  EXPECT_EQ(cfg.sessionMark, 0xf7a2u);
  const WorkerSettings w = workerSettings(cfg, 3);
  EXPECT_EQ(w.stateDir, "/run/ftpalg/queue-3");
  EXPECT_EQ(w.sessionMark, 0xf7a2u);
  EXPECT_EQ(ruleSpec(cfg).sessionMark, 0xf7a2u);
}

TEST(ConfigState, Keys) {
  DaemonConfig cfg;
  ASSERT_TRUE(
      applyConfigText("state_dir = \"/var/lib/x\"\nsession_mark = \"0x10\"\n", "t.toml", cfg).ok());
  EXPECT_EQ(cfg.stateDir, "/var/lib/x");
  EXPECT_EQ(cfg.sessionMark, 0x10u);
  ASSERT_TRUE(applyConfigText("state_dir = \"\"\nsession_mark = 0\n", "t.toml", cfg).ok());
  EXPECT_TRUE(cfg.stateDir.empty());
  EXPECT_EQ(cfg.sessionMark, 0u);
  EXPECT_TRUE(workerSettings(cfg, 0).stateDir.empty());
  EXPECT_FALSE(applyConfigText("state_dir = \"relative\"\n", "t.toml", cfg).ok());
  EXPECT_FALSE(applyConfigText("session_mark = -1\n", "t.toml", cfg).ok());
  EXPECT_FALSE(applyConfigText("session_mark = \"zz\"\n", "t.toml", cfg).ok());
}

TEST(ConfigState, Flags) {
  CommandLine cl;
  ASSERT_TRUE(parse({"--state-dir", "/tmp/s", "--session-mark", "0x20"}, cl).ok());
  EXPECT_EQ(cl.config.stateDir, "/tmp/s");
  EXPECT_EQ(cl.config.sessionMark, 0x20u);
  ASSERT_TRUE(parse({"--state-dir", "", "--session-mark", "0"}, cl).ok());
  EXPECT_TRUE(cl.config.stateDir.empty());
  EXPECT_EQ(cl.config.sessionMark, 0u);
  EXPECT_FALSE(parse({"--state-dir", "x"}, cl).ok());
  EXPECT_FALSE(parse({"--session-mark", "nope"}, cl).ok());
}

}  // namespace
}  // namespace ftpalg::test
