// The metrics endpoint over real sockets in a scratch directory: GET /metrics answered on the
// Unix socket and on loopback TCP, wrong methods and paths refused, oversized and silent
// clients cut off without keeping others waiting, a stale socket file replaced and a live one
// left alone, and the textfile written whole (temp file + rename) and at stop. Also the keys and
// flags that configure it (config.cc): metrics_socket (default /run/ftpalg/metrics.sock, ""
// none), metrics_listen (loopback ADDR:PORT only), metrics_textfile; flags win over the file.
// g++ 12 at -O2 reports a false -Wnull-dereference inside inlined std::string code here (as in
// src/cli/main.cc); the test has no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "daemon/metrics_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config.h"

namespace ftpalg::test {
namespace {

using daemon::MetricsServer;
using daemon::MetricsSettings;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int connectUnix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int connectTcp(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `request` on `fd` and reads until the server closes (at most 10 s); closes `fd`.
std::string exchange(int fd, const std::string& request) {
  EXPECT_GE(fd, 0);
  if (fd < 0) return {};
  (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (int i = 0; i < 1000; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10) <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ftpalg-metrics-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    settings_.socketPath = dir_ + "/metrics.sock";
    settings_.procPath = dir_ + "/no-such-proc-file";
    stats_.packets.store(5);
  }
  void TearDown() override {
    server_.reset();
    (void)std::system(("rm -rf " + dir_).c_str());
  }
  void start() {
    server_ = std::make_unique<MetricsServer>(
        settings_, std::vector<daemon::MetricsSource>{{3, &stats_, &metrics_, &snapshot_}});
    server_->open();
    server_->start();
  }

  std::string dir_;
  MetricsSettings settings_;
  daemon::WorkerStats stats_;
  daemon::WorkerMetrics metrics_;
  daemon::StatsSnapshot snapshot_;
  std::unique_ptr<MetricsServer> server_;
};

TEST(MetricsRespond, MethodsAndPaths) {
  const std::string ok =
      MetricsServer::respond("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "a 1\n");
  EXPECT_EQ(ok.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << ok;
  EXPECT_NE(ok.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  EXPECT_NE(ok.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(ok.substr(ok.size() - 4), "a 1\n");
  const std::string head = MetricsServer::respond("HEAD /metrics HTTP/1.0\r\n\r\n", "a 1\n");
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  EXPECT_EQ(
      MetricsServer::respond("GET /metrics?x=1 HTTP/1.1\r\n\r\n", "").rfind("HTTP/1.0 200", 0), 0u);
  EXPECT_EQ(MetricsServer::respond("POST /metrics HTTP/1.1\r\n\r\n", "").rfind("HTTP/1.0 405", 0),
            0u);
  EXPECT_EQ(MetricsServer::respond("GET /other HTTP/1.1\r\n\r\n", "").rfind("HTTP/1.0 404", 0), 0u);
  EXPECT_EQ(MetricsServer::respond("garbage\r\n\r\n", "").rfind("HTTP/1.0 405", 0), 0u);
}

TEST_F(MetricsServerTest, AnswersGetOnTheUnixSocket) {
  start();
  ASSERT_TRUE(server_->unixBound());
  struct stat st {};
  ASSERT_EQ(::stat(settings_.socketPath.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  const std::string r =
      exchange(connectUnix(settings_.socketPath), "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.0 200 OK", 0), 0u) << r;
  EXPECT_NE(r.find("\nftpalg_queue_packets_total{queue=\"3\"} 5\n"), std::string::npos) << r;
  EXPECT_NE(r.find("\nftpalg_kernel_queue_stats_readable 0\n"), std::string::npos);
  server_->stop();
  EXPECT_NE(::stat(settings_.socketPath.c_str(), &st), 0) << "socket file left behind";
}

TEST_F(MetricsServerTest, AnswersOnLoopbackTcp) {
  settings_.socketPath.clear();
  settings_.listen = "127.0.0.1:0";
  start();
  ASSERT_TRUE(server_->tcpBound());
  const std::string r =
      exchange(connectTcp(server_->tcpPort()), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.0 200 OK", 0), 0u) << r;
}

TEST_F(MetricsServerTest, OversizedRequestIsRefused) {
  start();
  const std::string r =
      exchange(connectUnix(settings_.socketPath),
               "GET /metrics HTTP/1.1\r\nX: " + std::string(MetricsServer::kMaxRequestBytes, 'a'));
  EXPECT_EQ(r.rfind("HTTP/1.0 431", 0), 0u) << r.substr(0, 100);
}

TEST_F(MetricsServerTest, SilentClientsDoNotStopOthersForLong) {
  settings_.connectionDeadlineNs = 300'000'000;
  start();
  // More silent connections than the server takes at once.
  std::vector<int> idle;
  for (size_t i = 0; i < MetricsServer::kMaxConnections + 2; ++i) {
    idle.push_back(connectUnix(settings_.socketPath));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::string r =
      exchange(connectUnix(settings_.socketPath), "GET /metrics HTTP/1.0\r\n\r\n");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("answered after %.3f s behind %zu silent connections\n", s, idle.size());
  EXPECT_EQ(r.rfind("HTTP/1.0 200 OK", 0), 0u);
  EXPECT_LT(s, 5.0);
  // The silent ones were cut off: each reads end of file.
  for (int fd : idle) {
    char c;
    pollfd p{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 5000), 1);
    EXPECT_EQ(::recv(fd, &c, 1, 0), 0);
    ::close(fd);
  }
}

TEST_F(MetricsServerTest, StaleSocketFileIsReplacedLiveOneKept) {
  // A stale file: bound, then its socket closed.
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, settings_.socketPath.c_str(), settings_.socketPath.size() + 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa), 0);
    ::close(fd);
  }
  start();
  EXPECT_TRUE(server_->unixBound());
  // A second server at the same path: the first one answers, so it is left alone.
  MetricsServer second(settings_, {});
  ::testing::internal::CaptureStderr();
  second.open();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(second.unixBound());
  EXPECT_NE(log.find("another process serves it"), std::string::npos) << log;
  second.stop();
  const std::string r = exchange(connectUnix(settings_.socketPath), "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.0 200 OK", 0), 0u);
}

TEST_F(MetricsServerTest, TextfileIsWrittenWholeAndAtStop) {
  settings_.socketPath.clear();
  settings_.textfile = dir_ + "/ftpalg.prom";
  settings_.textfileIntervalNs = 50'000'000;
  start();
  for (int i = 0; i < 200 && slurp(settings_.textfile).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::string first = slurp(settings_.textfile);
  EXPECT_NE(first.find("ftpalg_queue_packets_total{queue=\"3\"} 5\n"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(settings_.textfile.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  stats_.packets.store(6);
  server_->stop();
  EXPECT_NE(slurp(settings_.textfile).find("ftpalg_queue_packets_total{queue=\"3\"} 6\n"),
            std::string::npos);
  EXPECT_NE(::stat((settings_.textfile + ".tmp").c_str(), &st), 0) << "temp file left";
  // Whole: it ends with the last family's last sample line.
  const std::string last = slurp(settings_.textfile);
  EXPECT_EQ(last.back(), '\n');
}

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
