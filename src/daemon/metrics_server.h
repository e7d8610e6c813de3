// ftpalgd's metrics endpoint (docs/daemon.md, "Metrics"): the Prometheus text exposition of
// metrics_text.h, served on a Unix socket (metrics_socket) and optionally a loopback TCP address
// (metrics_listen) to HTTP GET /metrics, and optionally written as a node_exporter textfile
// (metrics_textfile, temp file + rename every few seconds and at stop).
//
// Its own thread, never a queue thread: the workers publish their counters (StatsSnapshot,
// WorkerStats, WorkerMetrics) without waiting for it, and a slow or hostile scraper costs only
// this thread: at most kMaxConnections at once, kMaxRequestBytes per request, a deadline per
// connection (5 s), non-blocking sockets throughout. Sockets are bound and the kernel's root-only
// queue statistics opened by open(), before privileges are dropped; a failure there is logged
// and leaves that part out (metrics are never a reason not to serve packets).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon/stats_snapshot.h"
#include "daemon/worker_metrics.h"
#include "daemon/worker_stats.h"
#include "ftpalg/kernel/queue_stats_proc.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

class QueueWorker;

// Where the metrics go (from the configuration: metrics_socket, metrics_listen,
// metrics_textfile). An empty string leaves that part out.
struct MetricsSettings {
  std::string socketPath;
  std::string listen;  // "127.0.0.1:9477" or "[::1]:9477" (loopback only: config.cc checks)
  std::string textfile;
  uint64_t textfileIntervalNs = 5'000'000'000;
  uint64_t connectionDeadlineNs = 5'000'000'000;         // a scraper's whole exchange
  std::string procPath = kernel::QueueStatsFile::kPath;  // the kernel's queue statistics
};

// main() registers the settings; the serve loop builds the server from them (none registered:
// no metrics, as in unit tests).
void registerMetricsSettings(const MetricsSettings& s);
[[nodiscard]] const MetricsSettings& registeredMetricsSettings();

// What the server reads of one queue.
struct MetricsSource {
  uint16_t queue = 0;
  const WorkerStats* stats = nullptr;
  const WorkerMetrics* metrics = nullptr;
  const StatsSnapshot* snapshot = nullptr;
};
std::vector<MetricsSource> metricsSources(const std::vector<QueueWorker*>& workers);

// The endpoint (see above).
class MetricsServer {
 public:
  static constexpr size_t kMaxConnections = 8;
  static constexpr size_t kMaxRequestBytes = 4096;

  MetricsServer(MetricsSettings settings, std::vector<MetricsSource> sources);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds the sockets and opens the kernel's statistics (before privileges are dropped). Each
  // failure is logged as a warning and leaves that part out.
  void open();
  // Starts the thread (no-op when there is nothing to serve or write).
  void start();
  // Stops the thread, writes the textfile a last time, removes the socket file it created.
  void stop();
  // The exposition now (reads the kernel's statistics).
  std::string render();

  [[nodiscard]] bool unixBound() const { return unixFd_ >= 0; }
  [[nodiscard]] bool tcpBound() const { return tcpFd_ >= 0; }
  // The bound TCP port (metrics_listen with port 0: the kernel's choice; tests).
  [[nodiscard]] uint16_t tcpPort() const { return tcpPort_; }

  // The response to one request (its bytes up to the blank line): status line, headers, and
  // for GET the body `render` gives. Static and pure, for tests.
  static std::string respond(std::string_view request, std::string_view body);

 private:
  struct Conn {
    int fd = -1;
    std::string in;
    std::string out;
    size_t sent = 0;
    uint64_t deadlineNs = 0;
  };
  void run();
  void acceptFrom(int listenFd, uint64_t nowNs);
  void readFrom(Conn& c);
  void writeTo(Conn& c);
  void writeTextfile();
  void openUnix();
  void openTcp();

  MetricsSettings settings_;
  std::vector<MetricsSource> sources_;
  int unixFd_ = -1;
  int tcpFd_ = -1;
  uint16_t tcpPort_ = 0;
  dev_t unixDev_ = 0;  // the socket file we created (removed at stop if still ours)
  ino_t unixIno_ = 0;
  int wakeFd_ = -1;  // eventfd: stop()
  std::thread thread_;
  std::vector<Conn> conns_;
  kernel::QueueStatsFile proc_;
  std::vector<kernel::QueueProcStats> lines_;
  // Per queue (sources_ order): the kernel's 32-bit counters widened (counterDelta).
  struct KernelState {
    bool seen = false;
    uint32_t queueDropped = 0;
    uint32_t userDropped = 0;
    uint64_t queueDroppedTotal = 0;
    uint64_t userDroppedTotal = 0;
  };
  std::vector<KernelState> kernel_;
  bool textfileFailing_ = false;  // logged once per failing stretch
};

}  // namespace ftpalg::daemon
