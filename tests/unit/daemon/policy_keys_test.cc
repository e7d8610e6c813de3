// The policy keys of the configuration file: pasv_address_mismatch and [[policy.override]]
// (strict values, errors at file:line:col), their engine tables, and that a reload applies them.
#include "daemon/policy_keys.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/config.h"
#include "daemon/reload.h"
#include "daemon/worker_settings.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using daemon::DaemonConfig;

DaemonConfig parsed(const std::string& text) {
  DaemonConfig c;
  const Status s = daemon::applyConfigText(text, "t.toml", c);
  EXPECT_TRUE(s.ok()) << s.message();
  return c;
}

std::string errorOf(const std::string& text) {
  DaemonConfig c;
  const Status s = daemon::applyConfigText(text, "t.toml", c);
  EXPECT_FALSE(s.ok()) << text;
  return s.message();
}

TEST(PolicyKeys, PasvAddressMismatchValues) {
  EXPECT_EQ(DaemonConfig{}.pasvAddressMismatch, core::PasvMismatch::Refuse);
  EXPECT_EQ(parsed("pasv_address_mismatch = \"rewrite_to_peer\"").pasvAddressMismatch,
            core::PasvMismatch::RewriteToPeer);
  EXPECT_EQ(parsed("pasv_address_mismatch = \"refuse\"").pasvAddressMismatch,
            core::PasvMismatch::Refuse);
  EXPECT_EQ(errorOf("pasv_address_mismatch = \"rewrite\""),
            "t.toml:1:25: 'pasv_address_mismatch': bad value 'rewrite' (refuse, rewrite_to_peer)");
  EXPECT_NE(errorOf("pasv_address_mismatch = true").find("must be a string"), std::string::npos);
}

TEST(PolicyKeys, OverrideTablesAndTheirEngineForm) {
  const DaemonConfig c = parsed(
      "allow_low_ports = true\n"
      "[[policy.override]]\n"
      "networks = [\"198.18.5.0/24\", \"198.18.6.1\", \"2001:db8:5::/48\"]\n"
      "allow_bounce = true\n"
      "[[policy.override]]\n"
      "networks = [\"198.18.7.0/24\"]\n"
      "allow_low_ports = false\n");
  ASSERT_EQ(c.overrides.size(), 2u);
  EXPECT_EQ(c.overrides[0].allowBounce, true);
  EXPECT_FALSE(c.overrides[0].allowLowPorts.has_value());
  const core::PolicyOverrides o = daemon::engineOverrides(c);
  EXPECT_TRUE(o[0].allowBounce);
  EXPECT_TRUE(o[0].allowLowPorts);  // unset: the global value
  EXPECT_FALSE(o[1].allowBounce);
  EXPECT_FALSE(o[1].allowLowPorts);
  EXPECT_EQ(o[0].networks[0].addr, ipFromText("198.18.5.0"));
  EXPECT_EQ(o[0].networks[0].length, 24);
  EXPECT_EQ(o[0].networks[1].length, 32);  // a host
  EXPECT_EQ(o[0].networks[2].length, 48);
  EXPECT_EQ(o[0].networks[3].addr.family, core::Family::None);
  EXPECT_EQ(o[2].networks[0].addr.family, core::Family::None);
  // The engine of every queue gets them.
  const auto s = daemon::workerSettings(c, 0);
  EXPECT_TRUE(s.engine.overrides[0].allowBounce);
  EXPECT_EQ(s.engine.overrides[1].networks[0].addr, ipFromText("198.18.7.0"));
}

TEST(PolicyKeys, OverrideErrorsAreNamedAtTheirPlace) {
  EXPECT_EQ(errorOf("[[policy.override]]\nnetworks = [\"198.18.5.1/24\"]\n"),
            "t.toml:2:13: 'networks': host bits set in '198.18.5.1/24'");
  EXPECT_NE(errorOf("[[policy.override]]\nnetworks = [\"198.18.5.0/33\"]\n").find("bad prefix"),
            std::string::npos);
  EXPECT_NE(errorOf("[[policy.override]]\nnetworks = [\"198.18.5\"]\n").find("bad address"),
            std::string::npos);
  EXPECT_NE(errorOf("[[policy.override]]\nnetworks = []\n").find("1..8 prefixes"),
            std::string::npos);
  EXPECT_NE(errorOf("[[policy.override]]\nallow_bounce = true\n").find("needs 'networks'"),
            std::string::npos);
  EXPECT_NE(errorOf("[[policy.override]]\nnetworks = [\"198.18.5.0/24\"]\nbounce = true\n")
                .find("unknown key 'policy.override.bounce'"),
            std::string::npos);
  EXPECT_NE(errorOf("[policy]\nother = 1\n").find("unknown key 'policy.other'"), std::string::npos);
  std::string nine;
  for (int i = 0; i < 9; ++i) nine += "[[policy.override]]\nnetworks = [\"198.18.5.0/24\"]\n";
  EXPECT_NE(errorOf(nine).find("0..8 tables"), std::string::npos);
}

TEST(PolicyKeys, ReloadAppliesThemLive) {
  const DaemonConfig next = parsed(
      "pasv_address_mismatch = \"rewrite_to_peer\"\n"
      "[[policy.override]]\nnetworks = [\"198.18.5.0/24\"]\nallow_bounce = true\n");
  const daemon::ReloadResult r = daemon::planReload(DaemonConfig{}, Status{}, next);
  EXPECT_TRUE(r.applied) << r.message;
  EXPECT_NE(r.message.find("pasv_address_mismatch refuse -> rewrite_to_peer"), std::string::npos)
      << r.message;
  EXPECT_NE(r.message.find("policy [] -> [{198.18.5.0/24 allow_bounce=true}]"), std::string::npos)
      << r.message;
  const DaemonConfig journal = parsed("log_target = \"journal\"");
  EXPECT_FALSE(daemon::planReload(DaemonConfig{}, Status{}, journal).applied);  // a restart
}

}  // namespace
}  // namespace ftpalg::test
