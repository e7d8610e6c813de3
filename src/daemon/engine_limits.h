// The resource limits of each queue's engine from the daemon configuration (docs/design.md,
// "Resource limits"; keys max_sessions, max_buffers, half_open_timeout, hold_timeout, max_held).
#pragma once

#include "daemon/config.h"
#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// Sets the limits of `engine` from `cfg`; the verdict for a new session on a full table follows
// the declared fail-open policy (cfg.failOpen).
void applyEngineLimits(const DaemonConfig& cfg, core::EngineConfig& engine);
// The line, in-flight, expectation, idle/close timeout, per-direction hold and gap limits
// (called by applyEngineLimits).
void applyMoreEngineLimits(const DaemonConfig& cfg, core::EngineConfig& engine);

}  // namespace ftpalg::daemon
