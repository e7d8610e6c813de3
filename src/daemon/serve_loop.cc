#include "daemon/serve_loop.h"

#include <atomic>
#include <ctime>
#include <thread>

#include "daemon/log.h"
#include "daemon/notify.h"

namespace ftpalg::daemon {
namespace {

constexpr int kStatusIntervalS = 5;

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

  int sig = 0;
  while (true) {
    const timespec timeout{kStatusIntervalS, 0};
    sig = sigtimedwait(&sigs, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) break;
    if (sig == SIGHUP) {
      if (onHangup) onHangup();
      logf(LogLevel::Info,
           "SIGHUP: reopening the events file; restart to change the configuration");
    }
    notifyStatus(texts.status());
  }
  notifyStopping();
  logf(LogLevel::Info, "signal {}: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  stop.store(true);
  for (std::thread& t : threads) t.join();
}

}  // namespace ftpalg::daemon
