// Configuration reload: the key-by-key comparison, the decision (apply live keys, reject a
// broken file or a key that needs a restart with the reason, the running configuration
// staying), and the Reloader reading the same command line and file again.
// g++ 12 at -O2 reports a false -Wnull-dereference inside inlined std::string code here (as in
// src/cli/main.cc); the test has no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "daemon/reload.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace ftpalg::test {

using namespace ftpalg::daemon;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

TEST(Reload, KeyValuesCoverEveryConfigKeyInOrder) {
  const auto kv = keyValues(DaemonConfig{});
  const auto keys = configKeys();
  ASSERT_EQ(kv.size(), keys.size());
  for (size_t i = 0; i < kv.size(); ++i) EXPECT_EQ(kv[i].first, keys[i]);
}

TEST(Reload, EveryFieldChangeIsSeen) {
  // Each key changed on its own shows up as exactly that key (a field missing from keyValues
  // would go unnoticed by a reload).
  const char* const edits[] = {"queues = \"1\"",
                               "kernel_mode = \"pinhole\"",
                               "install_rules = true",
                               "fail_open = true",
                               "events = \"-\"",
                               "log_level = \"debug\"",
                               "mark = 7",
                               "pinhole_timeout = 9",
                               "queue_maxlen = 99",
                               "allow_bounce = true",
                               "allow_low_ports = true",
                               "allow_long_forms = true",
                               "table = \"x\"",
                               "ports = [2121]",
                               "max_sessions = 9",
                               "max_buffers = 9",
                               "half_open_timeout = 9",
                               "hold_timeout = 9",
                               "max_held = 9",
                               "max_line = 100",
                               "max_in_flight = 9999",
                               "max_expectations = 2",
                               "idle_timeout = 99",
                               "close_timeout = 9",
                               "max_held_per_direction = 9",
                               "gap_drop_limit = 9",
                               "max_data_keys = 99",
                               "state_dir = \"/x\"",
                               "session_mark = 9",
                               "user = \"x\"",
                               "group = \"x\"",
                               "seccomp = false",
                               "metrics_socket = \"/x\"",
                               "metrics_listen = \"127.0.0.1:9\"",
                               "metrics_textfile = \"/x\"",
                               "queue_everything = true",
                               "pasv_address_mismatch = \"rewrite_to_peer\"",
                               "policy = { override = [ { networks = [\"198.18.5.0/24\"] } ] }",
                               "log_target = \"journal\"",
                               "control_socket = \"/x\"",
                               "control_group = \"x\"",
                               "spread_connections = true",
                               "conntrack_state = \"labels\"",
                               "conntrack_state_bit = 0"};
  ASSERT_EQ(std::size(edits), configKeys().size());
  for (const char* edit : edits) {
    DaemonConfig next;
    ASSERT_TRUE(applyConfigText(edit, "t.toml", next).ok()) << edit;
    const auto changes = configChanges(DaemonConfig{}, next);
    ASSERT_EQ(changes.size(), 1u) << edit;
    EXPECT_EQ(std::string(edit).rfind(std::string(changes[0].key) + " =", 0), 0u) << edit;
  }
}

TEST(Reload, PolicyAndTimeoutsAreLiveSizesAndBindingsAreNot) {
  for (const char* k :
       {"allow_bounce", "allow_low_ports", "allow_long_forms", "log_level", "hold_timeout",
        "half_open_timeout", "idle_timeout", "close_timeout", "gap_drop_limit"}) {
    EXPECT_TRUE(liveKey(k)) << k;
  }
  for (const char* k : {"queues", "kernel_mode", "install_rules", "fail_open", "table", "mark",
                        "ports", "queue_maxlen", "max_sessions", "max_buffers", "max_line",
                        "max_in_flight", "max_held", "pinhole_timeout", "events"}) {
    EXPECT_FALSE(liveKey(k)) << k;
  }
}

TEST(Reload, PlanAppliesLiveChangesAndNamesThem) {
  DaemonConfig next;
  next.allowBounce = true;
  next.holdTimeoutS = 2;
  const ReloadResult r = planReload(DaemonConfig{}, Status{}, next);
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.message,
            "reload: allow_bounce false -> true, hold_timeout 5 -> 2 (new announcements follow "
            "it; sessions kept)");
}

TEST(Reload, PlanRejectsRestartKeysAndKeepsTheRunningConfiguration) {
  DaemonConfig next;
  next.allowBounce = true;
  next.queues = {0, 1};
  const ReloadResult r = planReload(DaemonConfig{}, Status{}, next);
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(r.message,
            "reload rejected, the running configuration stays: queues [0] -> [0,1] needs a "
            "restart (systemctl restart ftpalgd)");
}

TEST(Reload, PlanRejectsAParseErrorWithItsPlace) {
  const ReloadResult r = planReload(
      DaemonConfig{}, Status::error("/etc/f.toml:3:1: unknown key 'bogus'"), DaemonConfig{});
  EXPECT_FALSE(r.applied);
  EXPECT_EQ(r.message,
            "reload rejected, the running configuration stays: /etc/f.toml:3:1: unknown key "
            "'bogus'");
}

TEST(Reload, UnchangedIsAppliedAndSaysSo) {
  const ReloadResult r = planReload(DaemonConfig{}, Status{}, DaemonConfig{});
  EXPECT_TRUE(r.applied);
  EXPECT_EQ(r.message, "reload: configuration unchanged");
}

class ReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "ftpalgd_reload_" + std::to_string(getpid()) + ".toml";
    write("allow_bounce = false\n");
  }
  void TearDown() override { std::remove(path_.c_str()); }
  void write(const std::string& text) const { std::ofstream(path_) << text; }
  std::vector<std::string> args() const { return {"ftpalgd", "--config", path_}; }

  std::string path_;
};

TEST_F(ReloaderTest, AppliesAChangedFileAndRejectsABrokenOneKeepingTheLastGood) {
  CommandLine start;
  const auto a = args();
  std::vector<const char*> argv;
  for (const auto& s : a) argv.push_back(s.c_str());
  ASSERT_TRUE(parseCommandLine(static_cast<int>(argv.size()), argv.data(), start).ok());

  std::vector<DaemonConfig> applied;
  Reloader reloader(a, start.config, [&](const DaemonConfig& c) { applied.push_back(c); });

  write("allow_bounce = true\nidle_timeout = 60\n");
  ReloadResult r = reloader.reload();
  EXPECT_TRUE(r.applied) << r.message;
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_TRUE(applied[0].allowBounce);
  EXPECT_EQ(applied[0].idleTimeoutS, 60u);
  EXPECT_TRUE(reloader.running().allowBounce);

  write("allow_bounce = true\nidle_timeout = 1\n");  // out of range
  r = reloader.reload();
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.message.find(path_ + ":2:16: 'idle_timeout' must be an integer 10..604800"),
            std::string::npos)
      << r.message;
  EXPECT_EQ(applied.size(), 1u);
  EXPECT_EQ(reloader.running().idleTimeoutS, 60u);

  write("allow_bounce = true\nidle_timeout = 60\nmax_sessions = 10\n");  // needs a restart
  r = reloader.reload();
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.message.find("max_sessions 131072 -> 10 needs a restart"), std::string::npos)
      << r.message;
  EXPECT_EQ(applied.size(), 1u);

  std::remove(path_.c_str());  // gone: rejected, still running as before
  r = reloader.reload();
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.message.find("cannot read " + path_), std::string::npos) << r.message;
  EXPECT_TRUE(reloader.running().allowBounce);
}

TEST(Reload, RememberedCommandLine) {
  const char* argv[] = {"ftpalgd", "--config", "/etc/ftpalg/ftpalgd.toml"};
  rememberCommandLine(3, argv);
  EXPECT_EQ(rememberedCommandLine(),
            (std::vector<std::string>{"ftpalgd", "--config", "/etc/ftpalg/ftpalgd.toml"}));
}

}  // namespace
}  // namespace ftpalg::test
