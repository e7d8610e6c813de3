#include "daemon/limit_report.h"

#include <string>

namespace ftpalg::daemon {

bool LimitReport::report(const core::Engine& engine, WorkerLog& log, uint64_t nowNs) {
  std::string changes;
  for (size_t i = 0; i < kWatched.size(); ++i) {
    const uint64_t now = engine.counter(kWatched[i]);
    if (now == last_[i]) continue;
    bump(log.stats().limitsHit, now - last_[i]);
    if (!changes.empty()) changes += ", ";
    changes += fmt::format("{} +{}", core::counterName(kWatched[i]), now - last_[i]);
    last_[i] = now;
  }
  if (changes.empty()) return false;
  log.limited(LogSite::Anomaly, LogLevel::Warning, nowNs, "resource limits: {}", changes);
  return true;
}

}  // namespace ftpalg::daemon
