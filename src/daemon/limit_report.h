// The engine's resource-limit counters (docs/design.md, "Resource limits") as log lines: once
// per expiry pass (once a second) the worker reports what changed since the last pass in one
// rate-limited warning, so a burst of exhaustion gives one line, not one per packet.
#pragma once

#include <array>
#include <cstdint>

#include "daemon/worker_log.h"
#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// Remembers the counters last reported; report() logs the increase of each.
class LimitReport {
 public:
  // Logs "resource limits: <counter> +N, ..." when any watched counter grew, and adds the
  // increase to WorkerStats::limitsHit (shown in STATUS=). True if any grew.
  bool report(const core::Engine& engine, WorkerLog& log, uint64_t nowNs);

  // The counters watched, in the order they are listed.
  static constexpr std::array<core::Counter, 6> kWatched = {
      core::Counter::SessionTableFull, core::Counter::PoolExhausted, core::Counter::SessionEvicted,
      core::Counter::BufferReclaimed,  core::Counter::HoldLimit,     core::Counter::HoldTimeout,
  };

 private:
  std::array<uint64_t, kWatched.size()> last_{};
};

}  // namespace ftpalg::daemon
