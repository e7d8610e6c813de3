#include "cli/replay_options.h"

#include <gtest/gtest.h>

#include <string>

namespace ftpalg::test {

using namespace ftpalg::cli;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

TEST(ParsePort, Strict) {
  uint16_t p = 0;
  EXPECT_TRUE(parsePort("1", p).ok());
  EXPECT_EQ(p, 1);
  EXPECT_TRUE(parsePort("65535", p).ok());
  EXPECT_EQ(p, 65535);
  EXPECT_TRUE(parsePort("02121", p).ok());
  EXPECT_EQ(p, 2121);
  for (const char* bad :
       {"", "0", "65536", "99999", "-1", "+21", " 21", "21 ", "21a", "0x15", "000021"}) {
    EXPECT_FALSE(parsePort(bad, p).ok()) << bad;
  }
  EXPECT_EQ(parsePort("70000", p).message(), "port 70000 is out of range 1..65535");
  EXPECT_EQ(parsePort("ftp", p).message(), "'ftp' is not a port number");
}

TEST(MakeEngineConfig, ReplayDefaults) {
  core::EngineConfig c;
  ASSERT_TRUE(makeEngineConfig({}, c).ok());
  EXPECT_EQ(c.controlPorts[0], 21);
  EXPECT_EQ(c.controlPorts[1], 0);
  EXPECT_EQ(c.ackSpace, core::AckSpace::Original);
  EXPECT_TRUE(c.resyncOnGap);
  EXPECT_TRUE(c.evictWhenFull);
  EXPECT_FALSE(c.allowBounce);
  EXPECT_FALSE(c.allowLowPorts);
  EXPECT_FALSE(c.allowLongForms);
}

TEST(MakeEngineConfig, PolicyFlags) {
  ReplayOptions o;
  o.allowBounce = true;
  o.allowLowPorts = true;
  o.allowLongForms = true;
  core::EngineConfig c;
  ASSERT_TRUE(makeEngineConfig(o, c).ok());
  EXPECT_TRUE(c.allowBounce);
  EXPECT_TRUE(c.allowLowPorts);
  EXPECT_TRUE(c.allowLongForms);
}

TEST(MakeEngineConfig, PortsListsAndRepeats) {
  ReplayOptions o;
  o.ports = {"2121,2122", "21", "2121", "990"};
  core::EngineConfig c;
  ASSERT_TRUE(makeEngineConfig(o, c).ok());
  const std::array<uint16_t, 8> want{21, 2121, 2122, 990, 0, 0, 0, 0};
  EXPECT_EQ(c.controlPorts, want);
}

TEST(MakeEngineConfig, PortErrors) {
  core::EngineConfig c;
  ReplayOptions o;
  o.ports = {"2121,"};
  EXPECT_EQ(makeEngineConfig(o, c).message(), "--ports 2121,: '' is not a port number");
  o.ports = {"2121,0"};
  EXPECT_EQ(makeEngineConfig(o, c).message(), "--ports 2121,0: port 0 is out of range 1..65535");
  o.ports = {"1,2,3,4,5,6,7,8"};
  EXPECT_EQ(makeEngineConfig(o, c).message(), "--ports: at most 8 control ports (21 included)");
  o.ports = {"1,2,3,4,5,6,7"};
  EXPECT_TRUE(makeEngineConfig(o, c).ok());
}

TEST(MakeNatMap, ReportsTheFirstBadRule) {
  ReplayOptions o;
  o.snat = {"10.0.0.2=198.51.100.7"};
  o.dnat = {"198.51.100.80=10.0.0.80", "bad"};
  NatMap map;
  EXPECT_EQ(makeNatMap(o, map).message(), "--dnat bad: expected ADDRESS=ADDRESS");
}

}  // namespace
}  // namespace ftpalg::test
