#include "daemon/watchdog.h"

#include <systemd/sd-daemon.h>

#include <chrono>

namespace ftpalg::daemon {

HeartbeatCheck::HeartbeatCheck(std::vector<const std::atomic<uint64_t>*> beats)
    : beats_(std::move(beats)) {
  for (const auto* b : beats_) seen_.push_back(b->load(std::memory_order_relaxed));
}

bool HeartbeatCheck::allMoved() {
  for (size_t i = 0; i < beats_.size(); ++i) {
    if (beats_[i]->load(std::memory_order_relaxed) == seen_[i]) {
      stuck_ = i;
      return false;
    }
  }
  for (size_t i = 0; i < beats_.size(); ++i) seen_[i] = beats_[i]->load(std::memory_order_relaxed);
  return true;
}

Watchdog::Watchdog(uint64_t intervalUs, std::vector<const std::atomic<uint64_t>*> beats,
                   std::function<void()> ping, std::function<void(size_t)> onStuck)
    : check_(std::move(beats)), ping_(std::move(ping)), onStuck_(std::move(onStuck)) {
  if (intervalUs == 0) return;
  thread_ = std::thread([this, intervalUs] { loop(intervalUs / 2); });
}

Watchdog::~Watchdog() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::loop(uint64_t periodUs) {
  bool reported = false;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::microseconds(periodUs), [this] { return stop_; })) {
    if (check_.allMoved()) {
      ping_();
      reported = false;
    } else if (!reported) {
      onStuck_(check_.stuck());
      reported = true;
    }
  }
}

uint64_t watchdogIntervalUs() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0) return 0;
  return usec;
}

void notifyWatchdog() { (void)sd_notify(0, "WATCHDOG=1"); }

}  // namespace ftpalg::daemon
