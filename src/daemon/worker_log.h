// The log of one queue worker thread: lines prefixed "queue <n>: ", each site rate-limited on
// its own (one RateLimit per LogSite, owned here, so a flood of one kind of trouble does not
// silence another), and the one place failures of the packet path are reported: fail() counts,
// logs and returns the verdict of kFailurePolicy.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <string>
#include <utility>

#include "daemon/failure_policy.h"
#include "daemon/log.h"
#include "daemon/worker_stats.h"

namespace ftpalg::daemon {

// Rate-limited, queue-prefixed logging and failure reporting of one worker thread.
class WorkerLog {
 public:
  WorkerLog(uint16_t queueNum, WorkerStats& stats);

  // Writes "queue <n>: <message>" at `level` unless `site`'s limiter suppresses it; the first
  // line after suppression says how many were suppressed.
  template <typename... Args>
  void limited(LogSite site, LogLevel level, uint64_t nowNs, fmt::format_string<Args...> f,
               Args&&... args) {
    if (site == LogSite::None || !logEnabled(level)) return;
    uint64_t suppressed = 0;
    if (!limits_[static_cast<size_t>(site)].allow(nowNs, suppressed)) return;
    std::string line = fmt::format("queue {}: ", queueNum_);
    line += fmt::format(f, std::forward<Args>(args)...);
    if (suppressed != 0) line += fmt::format(" ({} similar messages suppressed)", suppressed);
    logLine(level, line);
  }

  // Reports failure `f` as kFailurePolicy states: counts it, logs the message rate-limited at
  // the row's level and site, and returns the verdict for the packet concerned.
  template <typename... Args>
  FailVerdict fail(Failure failure, uint64_t nowNs, fmt::format_string<Args...> f, Args&&... args) {
    const FailureRule& rule = failureRule(failure);
    if (rule.counter != nullptr) bump(stats_.*rule.counter);
    limited(rule.site, rule.level, nowNs, f, std::forward<Args>(args)...);
    return rule.verdict;
  }
  [[nodiscard]] uint16_t queueNum() const { return queueNum_; }
  [[nodiscard]] WorkerStats& stats() { return stats_; }

 private:
  uint16_t queueNum_;
  WorkerStats& stats_;
  std::array<RateLimit, static_cast<size_t>(LogSite::Count)> limits_;
};

}  // namespace ftpalg::daemon
