#include "daemon/serve_loop.h"

#include <atomic>
#include <ctime>
#include <memory>
#include <thread>

#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/watchdog.h"

namespace ftpalg::daemon {
namespace {

constexpr int kStatusIntervalS = 5;

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

}  // namespace

void serveUntilSignal(const std::vector<QueueWorker*>& workers, const sigset_t& sigs,
                      const ServeTexts& texts, const std::function<void()>& onHangup) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  threads.reserve(workers.size());
  for (QueueWorker* w : workers) {
    threads.emplace_back([&stop, w] { w->run(stop); });
  }
  logf(LogLevel::Info, "{}", texts.serving);
  notifyReady(texts.ready);
  std::unique_ptr<Watchdog> watchdog = startWatchdog(workers);

  int sig = 0;
  while (true) {
    const timespec timeout{kStatusIntervalS, 0};
    sig = sigtimedwait(&sigs, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGHUP) {
      logf(LogLevel::Info, "SIGHUP: reopening the events file, reloading the configuration");
      if (onHangup) onHangup();
    }
    notifyStatus(texts.status());
  }
  watchdog.reset();
  notifyStopping();
  logf(LogLevel::Info, "signal {}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  stop.store(true);
  for (std::thread& t : threads) t.join();
}

}  // namespace ftpalg::daemon
