#include "daemon/engine_limits.h"

#include <algorithm>

namespace ftpalg::daemon {

void applyEngineLimits(const DaemonConfig& cfg, core::EngineConfig& engine) {
  constexpr uint64_t kNsPerS = 1'000'000'000;
  engine.maxSessions = cfg.maxSessions;
  engine.maxBufferedDirections = cfg.maxBuffers;
  engine.halfOpenTimeoutNs = uint64_t{cfg.halfOpenTimeoutS} * kNsPerS;
  engine.holdTimeoutNs = uint64_t{cfg.holdTimeoutS} * kNsPerS;
  // By default lines still being held may take a quarter of the kernel queue at most.
  engine.maxHeldPackets =
      cfg.maxHeld != 0 ? cfg.maxHeld : std::max<uint32_t>(cfg.queueMaxLen / 4, 1);
  engine.failOpenWhenFull = cfg.failOpen;
  applyMoreEngineLimits(cfg, engine);
}

void applyMoreEngineLimits(const DaemonConfig& cfg, core::EngineConfig& engine) {
  constexpr uint64_t kNsPerS = 1'000'000'000;
  engine.maxLine = cfg.maxLine;
  engine.maxInFlight = cfg.maxInFlight;
  engine.maxExpectationsPerSession = cfg.maxExpectations;
  engine.idleTimeoutNs = uint64_t{cfg.idleTimeoutS} * kNsPerS;
  engine.closeTimeoutNs = uint64_t{cfg.closeTimeoutS} * kNsPerS;
  engine.maxHeldPerDirection = cfg.maxHeldPerDirection;
  engine.gapDropLimit = cfg.gapDropLimit;
  engine.maxDataKeys = cfg.maxDataKeys;
}

}  // namespace ftpalg::daemon
