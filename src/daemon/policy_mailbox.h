// A new engine policy handed from the main thread (configuration reload) to a queue thread,
// which takes it between two batches: the engine itself is never touched by two threads.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// One slot: a later post replaces an earlier one not yet taken.
class PolicyMailbox {
 public:
  void post(const core::EngineConfig& next) {
    const std::lock_guard<std::mutex> lock(mutex_);
    next_ = next;
    pending_.store(true, std::memory_order_release);
  }
  // The posted policy, once; nothing (one atomic load) when none is pending.
  std::optional<core::EngineConfig> take() {
    if (!pending_.load(std::memory_order_acquire)) return std::nullopt;
    const std::lock_guard<std::mutex> lock(mutex_);
    pending_.store(false, std::memory_order_relaxed);
    return next_;
  }

 private:
  std::mutex mutex_;
  std::atomic<bool> pending_{false};
  core::EngineConfig next_;
};

}  // namespace ftpalg::daemon
