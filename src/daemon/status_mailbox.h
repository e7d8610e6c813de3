// A status question from the control thread (control_server.h) to a queue thread, which answers
// it between two batches (the engine and its sessions are touched by that thread only). The
// asker waits with a deadline: a worker that does not answer in time shows as stuck instead of
// blocking the control socket; its late answer is thrown away.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// What the control socket asks a worker.
struct StatusQuestion {
  enum class Kind : uint8_t { Sessions, Session };
  Kind kind = Kind::Sessions;
  core::FlowKey flow;  // Kind::Session
};

// One question at a time (there is one control thread); a question replaces an unanswered one.
class StatusMailbox {
 public:
  // Control thread: posts `q`; returns its ticket for wait().
  uint64_t post(const StatusQuestion& q) {
    const std::lock_guard<std::mutex> lock(mutex_);
    question_ = q;
    answer_.clear();
    answered_ = false;
    pending_.store(++ticket_, std::memory_order_release);
    return ticket_;
  }
  // Control thread: the answer to `ticket`, or nothing when the worker did not give it by
  // `deadline`.
  std::optional<std::string> wait(uint64_t ticket, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_until(lock, deadline, [&] { return answered_ && ticket_ == ticket; })) {
      return std::nullopt;
    }
    return std::move(answer_);
  }
  // Worker thread, once per serve round: answers the pending question (one atomic load when
  // there is none) with `answer(question) -> std::string`, computed without the lock held.
  template <typename F>
  void serve(F&& answer) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    StatusQuestion q;
    uint64_t ticket = 0;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      ticket = ticket_;  // the newest question, should one have replaced the one seen pending
      q = question_;
      pending_.store(0, std::memory_order_relaxed);
    }
    std::string text = answer(q);
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (ticket_ != ticket) return;  // the asker gave up and asked again
      answer_ = std::move(text);
      answered_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<uint64_t> pending_{0};  // ticket of the unanswered question, 0: none
  uint64_t ticket_ = 0;
  StatusQuestion question_;
  std::string answer_;
  bool answered_ = false;
};

}  // namespace ftpalg::daemon
