#include "daemon/serve_loop.h"

#include <atomic>
#include <ctime>
#include <memory>
#include <thread>

#include "daemon/clock.h"
#include "daemon/control_server.h"
#include "daemon/log.h"
#include "daemon/metrics_server.h"
#include "daemon/notify.h"
#include "daemon/overload_monitor.h"
#include "daemon/privileges.h"
#include "daemon/watchdog.h"

namespace ftpalg::daemon {
namespace {

constexpr int kStatusIntervalS = 5;
constexpr uint64_t kStatusIntervalNs = uint64_t{kStatusIntervalS} * 1'000'000'000;

OverloadMonitor overloadMonitor(const std::vector<QueueWorker*>& workers) {
  std::vector<OverloadMonitor::Queue> queues;
  for (const QueueWorker* w : workers) {
    const WorkerSettings& s = w->settings();
    queues.push_back({s.queue.queueNum, s.queue.failOpen, s.queue.maxLen, &w->stats()});
  }
  return OverloadMonitor(std::move(queues));
}

// WatchdogSec=: pings while every queue thread completes serve rounds (watchdog.h).
std::unique_ptr<Watchdog> startWatchdog(const std::vector<QueueWorker*>& workers) {
  std::vector<const std::atomic<uint64_t>*> beats;
  for (QueueWorker* w : workers) beats.push_back(&w->stats().rounds);
  return std::make_unique<Watchdog>(watchdogIntervalUs(), std::move(beats), notifyWatchdog,
                                    [workers](size_t i) {
                                      logf(LogLevel::Error,
                                           "queue {}: its thread makes no progress; watchdog "
                                           "pings stop",
                                           workers[i]->queueNum());
                                    });
}

// The admin control socket (control_server.h), bound while the daemon may still chgrp it; a
// failure costs the status display only, never the forwarding.
std::unique_ptr<ControlServer> openControl(const std::vector<QueueWorker*>& workers) {
  const ControlSettings& s = registeredControlSettings();
  if (s.path.empty()) return nullptr;
  auto server = std::make_unique<ControlServer>(s, workers);
  if (Status st = server->open(); !st.ok()) {
    logf(LogLevel::Warning, "control socket {}: {}; `ftpalg status` will not answer", s.path,
         st.message());
    return nullptr;
  }
  return server;
}

}  // namespace

void serveUntilSignal(const std::vector<QueueWorker*>& workers, const sigset_t& sigs,
                      const ServeTexts& texts, const std::function<void()>& onHangup) {
  // The kernel's queue counters are root-only: opened before the privileges go.
  OverloadMonitor overload = overloadMonitor(workers);
  (void)overload.open();
  // Its sockets are bound (and the same root-only statistics opened) before privileges go too.
  MetricsServer metrics(registeredMetricsSettings(), metricsSources(workers));
  metrics.open();
  std::unique_ptr<ControlServer> control = openControl(workers);
  if (Status s = applyRegisteredPrivileges(); !s.ok()) {
    logf(LogLevel::Error, "dropping privileges: {}; not serving", s.message());
    return;
  }

  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (QueueWorker* w : workers) {
    threads.emplace_back([&stop, w] { w->run(stop); });
  }
  metrics.start();
  logf(LogLevel::Info, "{}", texts.serving);
  notifyReady(texts.ready);
  std::unique_ptr<Watchdog> watchdog = startWatchdog(workers);
  if (control != nullptr) control->start();

  // One second per round: the overload counters; STATUS= every kStatusIntervalS.
  int sig = 0;
  uint64_t lastStatus = monotonicNs();
  overload.tick(lastStatus);
  while (true) {
    const timespec timeout{1, 0};
    sig = sigtimedwait(&sigs, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGHUP) {
      logf(LogLevel::Info, "SIGHUP: reopening the events file, reloading the configuration");
      if (onHangup) onHangup();
    }
    const uint64_t now = monotonicNs();
    overload.tick(now);
    if (now - lastStatus >= kStatusIntervalNs || sig == SIGHUP) {
      lastStatus = now;
      notifyStatus(texts.status() + overload.statusText());
    }
  }
  watchdog.reset();
  notifyStopping();
  logf(LogLevel::Info, "signal {}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  if (control != nullptr) control->stop();  // before the workers it asks go
  stop.store(true);
  for (std::thread& t : threads) t.join();
  metrics.stop();  // the textfile's last write sees every verdict
  overload.tick(monotonicNs());
  overload.finish(monotonicNs());
}

}  // namespace ftpalg::daemon
