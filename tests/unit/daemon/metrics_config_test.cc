// The metrics keys and flags: metrics_socket (default /run/ftpalg/metrics.sock, "" none),
// metrics_listen (loopback ADDR:PORT only), metrics_textfile; flags win over the file.
// g++ 12 at -O2 reports a false -Wnull-dereference inside inlined std::string code here (as in
// src/cli/main.cc); the test has no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/config.h"

namespace ftpalg::test {
namespace {

TEST(MetricsConfig, Defaults) {
  const daemon::DaemonConfig cfg;
  EXPECT_EQ(cfg.metricsSocket, "/run/ftpalg/metrics.sock");
  EXPECT_EQ(cfg.metricsListen, "");
  EXPECT_EQ(cfg.metricsTextfile, "");
}

TEST(MetricsConfig, ListenTakesLoopbackOnly) {
  for (const char* ok : {"", "127.0.0.1:9477", "127.1.2.3:1", "[::1]:9477"}) {
    EXPECT_TRUE(daemon::checkMetricsListen(ok).ok()) << ok;
  }
  for (const char* bad : {"0.0.0.0:9477", "198.18.0.1:9477", "[::]:9477", "[2001:db8::1]:9477",
                          "::1:9477", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536",
                          "localhost:9477", "127.0.0.1:+1", "[127.0.0.1]:9477"}) {
    EXPECT_FALSE(daemon::checkMetricsListen(bad).ok()) << bad;
  }
  EXPECT_NE(daemon::checkMetricsListen("0.0.0.0:9477").message().find("not a loopback"),
            std::string::npos);
}

TEST(MetricsConfig, Keys) {
  daemon::DaemonConfig cfg;
  ASSERT_TRUE(daemon::applyConfigText("metrics_socket = \"\"\nmetrics_listen = \"[::1]:9477\"\n"
                                      "metrics_textfile = \"/var/lib/node/ftpalg.prom\"\n",
                                      "t.toml", cfg)
                  .ok());
  EXPECT_EQ(cfg.metricsSocket, "");
  EXPECT_EQ(cfg.metricsListen, "[::1]:9477");
  EXPECT_EQ(cfg.metricsTextfile, "/var/lib/node/ftpalg.prom");
  const struct {
    std::string text;
    const char* want;
  } bad[] = {
      {"metrics_listen = \"0.0.0.0:80\"\n", "t.toml:1:18: 'metrics_listen': metrics address"},
      {"metrics_socket = \"rel.sock\"\n", "t.toml:1:18: 'metrics_socket' must be an absolute path"},
      {"metrics_textfile = 3\n", "t.toml:1:20: 'metrics_textfile' must be a string"},
      {"metrics_socket = \"/" + std::string(120, 'a') + "\"\n", "at most 107"},
  };
  for (const auto& b : bad) {
    daemon::DaemonConfig c;
    const Status s = daemon::applyConfigText(b.text, "t.toml", c);
    ASSERT_FALSE(s.ok()) << b.text;
    EXPECT_NE(s.message().find(b.want), std::string::npos) << s.message();
  }
}

TEST(MetricsConfig, FlagsOverrideTheFile) {
  const std::vector<const char*> argv = {
      "ftpalgd",        "--metrics-socket",   "/tmp/m.sock", "--metrics-listen",
      "127.0.0.1:9477", "--metrics-textfile", "/tmp/m.prom"};
  daemon::CommandLine cl;
  ASSERT_TRUE(daemon::parseCommandLine(static_cast<int>(argv.size()), argv.data(), cl).ok());
  EXPECT_EQ(cl.config.metricsSocket, "/tmp/m.sock");
  EXPECT_EQ(cl.config.metricsListen, "127.0.0.1:9477");
  EXPECT_EQ(cl.config.metricsTextfile, "/tmp/m.prom");
  const std::vector<const char*> bad = {"ftpalgd", "--metrics-listen", "198.18.0.1:9477"};
  daemon::CommandLine c2;
  const Status s = daemon::parseCommandLine(static_cast<int>(bad.size()), bad.data(), c2);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("--metrics-listen: ", 0), 0u) << s.message();
}

}  // namespace
}  // namespace ftpalg::test
