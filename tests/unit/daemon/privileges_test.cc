// Privileges after setup: the plan (which user, when to stay) and, when the test runs as root,
// the drop itself in a child process: uid/gid, CapEff/CapPrm/CapBnd = CAP_NET_ADMIN only,
// no ambient capabilities, NoNewPrivs; and the keys user, group, seccomp (with their flags).
#include "daemon/privileges.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace ftpalg::test {
namespace {

using daemon::DaemonConfig;
using daemon::PrivilegePlan;

std::map<std::string, std::string> procStatus() {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    out[line.substr(0, colon)] = v;
  }
  return out;
}

TEST(Privileges, NonRootStartKeepsItsIdAndPlansNoChange) {
  DaemonConfig cfg;
  cfg.user = "nobody";
  PrivilegePlan p;
  ASSERT_TRUE(daemon::planPrivileges(cfg, 1234, p).ok());
  EXPECT_FALSE(p.changeId);
  EXPECT_TRUE(p.warning.empty());
  EXPECT_TRUE(p.seccomp);
}

TEST(Privileges, AnUnknownConfiguredUserOrGroupIsAnError) {
  DaemonConfig cfg;
  cfg.user = "no-such-user-ftpalg";
  PrivilegePlan p;
  const Status s = daemon::planPrivileges(cfg, 0, p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no such user"), std::string::npos);
  cfg.user = "root";
  cfg.group = "no-such-group-ftpalg";
  EXPECT_FALSE(daemon::planPrivileges(cfg, 0, p).ok());
}

TEST(Privileges, RootStaysRootWithoutAWarningWhenAskedTo) {
  DaemonConfig cfg;
  cfg.user = "root";
  PrivilegePlan p;
  ASSERT_TRUE(daemon::planPrivileges(cfg, 0, p).ok());
  EXPECT_FALSE(p.changeId);
  EXPECT_TRUE(p.warning.empty());
}

TEST(Privileges, WithoutTheDefaultUserRootStaysWithAWarning) {
  if (getpwnam(daemon::kDefaultUser) != nullptr) GTEST_SKIP() << "user ftpalg exists here";
  DaemonConfig cfg;
  PrivilegePlan p;
  ASSERT_TRUE(daemon::planPrivileges(cfg, 0, p).ok());
  EXPECT_FALSE(p.changeId);
  EXPECT_NE(p.warning.find("staying uid 0"), std::string::npos);
}

TEST(Privileges, SeccompCanBeTurnedOffByConfigAndEnvironment) {
  DaemonConfig cfg;
  cfg.seccomp = false;
  PrivilegePlan p;
  ASSERT_TRUE(daemon::planPrivileges(cfg, 1234, p).ok());
  EXPECT_FALSE(p.seccomp);
  cfg.seccomp = true;
  setenv("FTPALGD_SECCOMP", "off", 1);
  ASSERT_TRUE(daemon::planPrivileges(cfg, 1234, p).ok());
  unsetenv("FTPALGD_SECCOMP");
  EXPECT_FALSE(p.seccomp);
}

// Root only: a child drops to nobody and reports what /proc says of it.
TEST(Privileges, DropLeavesOnlyCapNetAdminAndNoNewPrivs) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  if (getpwnam("nobody") == nullptr) GTEST_SKIP() << "no user nobody";
  DaemonConfig cfg;
  cfg.user = "nobody";
  PrivilegePlan p;
  ASSERT_TRUE(daemon::planPrivileges(cfg, 0, p).ok());
  ASSERT_TRUE(p.changeId);
  p.seccomp = false;  // seccomp_filter_test covers the filter
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!daemon::dropPrivileges(p).ok()) _exit(10);
    auto st = procStatus();
    const std::string uid = std::to_string(p.uid);
    if (st["Uid"] != uid + "\t" + uid + "\t" + uid + "\t" + uid) _exit(11);
    if (st["Groups"] != "") _exit(12);
    if (st["CapEff"] != "0000000000001000") _exit(13);
    if (st["CapPrm"] != "0000000000001000") _exit(14);
    if (st["CapBnd"] != "0000000000001000") _exit(15);
    if (st["CapInh"] != "0000000000000000") _exit(16);
    if (st["CapAmb"] != "0000000000000000") _exit(17);
    if (st["NoNewPrivs"] != "1") _exit(18);
    if (setuid(0) == 0) _exit(19);  // no way back
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: drop failed, 11..19: see the checks";
}

// The configuration keys and flags the plan is made from.
TEST(ConfigPrivileges, DefaultsAndKeys) {
  DaemonConfig cfg;
  EXPECT_EQ(cfg.user, "");
  EXPECT_EQ(cfg.group, "");
  EXPECT_TRUE(cfg.seccomp);
  ASSERT_TRUE(daemon::applyConfigText("user = \"ftpalg\"\ngroup = \"adm\"\nseccomp = false\n",
                                      "t.toml", cfg)
                  .ok());
  EXPECT_EQ(cfg.user, "ftpalg");
  EXPECT_EQ(cfg.group, "adm");
  EXPECT_FALSE(cfg.seccomp);
}

// "" is the default written out (the example file shows every key at its default).
TEST(ConfigPrivileges, WrongTypesAndLongNamesAreErrorsEmptyIsTheDefault) {
  DaemonConfig cfg;
  EXPECT_FALSE(daemon::applyConfigText("user = 5\n", "t.toml", cfg).ok());
  EXPECT_FALSE(
      daemon::applyConfigText("user = \"" + std::string(33, 'u') + "\"\n", "t.toml", cfg).ok());
  EXPECT_FALSE(
      daemon::applyConfigText("group = \"" + std::string(33, 'g') + "\"\n", "t.toml", cfg).ok());
  ASSERT_TRUE(daemon::applyConfigText("user = \"x\"\ngroup = \"y\"\n", "t.toml", cfg).ok());
  ASSERT_TRUE(daemon::applyConfigText("user = \"\"\ngroup = \"\"\n", "t.toml", cfg).ok());
  EXPECT_EQ(cfg.user, "");
  EXPECT_EQ(cfg.group, "");
  EXPECT_FALSE(daemon::applyConfigText("seccomp = \"no\"\n", "t.toml", cfg).ok());
}

TEST(ConfigPrivileges, FlagsWinOverTheFile) {
  const char* argv[] = {"ftpalgd", "--user", "nobody", "--group", "nogroup", "--no-seccomp"};
  daemon::CommandLine cl;
  ASSERT_TRUE(daemon::parseCommandLine(6, argv, cl).ok());
  EXPECT_EQ(cl.config.user, "nobody");
  EXPECT_EQ(cl.config.group, "nogroup");
  EXPECT_FALSE(cl.config.seccomp);
}

}  // namespace
}  // namespace ftpalg::test
