// The systemd watchdog (WatchdogSec= in the unit): WATCHDOG=1 is sent only while every queue
// thread makes progress. Each worker counts its serve rounds (WorkerStats::rounds; a round ends
// at least every receive timeout, 200 ms, also when no packet comes); a ping goes out when
// every count moved since the previous ping, so one stuck thread stops the pings and systemd
// restarts the service.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ftpalg::daemon {

// The decision, without threads or clock: tests drive it.
class HeartbeatCheck {
 public:
  explicit HeartbeatCheck(std::vector<const std::atomic<uint64_t>*> beats);
  // True when every beat moved since the last call that returned true (the first call
  // compares with the values at construction).
  bool allMoved();
  // Index of the first beat that did not move at the last allMoved() (for the log line).
  [[nodiscard]] size_t stuck() const { return stuck_; }

 private:
  std::vector<const std::atomic<uint64_t>*> beats_;
  std::vector<uint64_t> seen_;
  size_t stuck_ = 0;
};

// Pings from a thread of its own, every half interval, while HeartbeatCheck::allMoved().
class Watchdog {
 public:
  // intervalUs 0: no watchdog (nothing runs). `ping` sends WATCHDOG=1; `onStuck(i)` is called
  // once when beat i stops moving.
  Watchdog(uint64_t intervalUs, std::vector<const std::atomic<uint64_t>*> beats,
           std::function<void()> ping, std::function<void(size_t)> onStuck);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void loop(uint64_t periodUs);

  HeartbeatCheck check_;
  std::function<void()> ping_;
  std::function<void(size_t)> onStuck_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// The watchdog interval systemd asked for (sd_watchdog_enabled), 0 when none.
uint64_t watchdogIntervalUs();
// WATCHDOG=1.
void notifyWatchdog();

}  // namespace ftpalg::daemon
