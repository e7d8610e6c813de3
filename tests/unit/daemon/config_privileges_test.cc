// The privilege keys of ftpalgd's configuration: user, group, seccomp (and their flags).
#include <gtest/gtest.h>

#include <string>

#include "daemon/config.h"

namespace ftpalg::test {
namespace {

using daemon::DaemonConfig;

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

TEST(ConfigPrivileges, WrongTypesAndEmptyNamesAreErrors) {
  DaemonConfig cfg;
  EXPECT_FALSE(daemon::applyConfigText("user = 5\n", "t.toml", cfg).ok());
  EXPECT_FALSE(daemon::applyConfigText("user = \"\"\n", "t.toml", cfg).ok());
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
