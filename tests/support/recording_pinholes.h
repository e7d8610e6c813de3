// Test support: a pinhole backend that writes every admit and withdrawal, in order, into a
// journal it may share with other backends (the queue thread's and the withdrawal thread's),
// so tests can see which came first; fails withdrawals of one port on request, and can hold a
// withdrawMany() call until the test lets it go. Header-only, thread-safe.
#pragma once

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "daemon/admit_backends.h"

namespace ftpalg::test {

// The shared, ordered record: "<who> admit <port>", "<who> withdraw <port>" (the pin key's
// port: natTo.port).
class PinholeJournal {
 public:
  void add(std::string line) {
    const std::lock_guard<std::mutex> lk(mu_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> lines() const {
    const std::lock_guard<std::mutex> lk(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

class RecordingPinholes final : public daemon::PinholeBackend {
 public:
  RecordingPinholes(PinholeJournal& journal, std::string who)
      : journal_(journal), who_(std::move(who)) {}

  Status admit(const core::Expectation& x) override {
    journal_.add(who_ + " admit " + std::to_string(x.natTo.port));
    return {};
  }
  Status withdraw(const core::Expectation& x) override {
    journal_.add(who_ + " withdraw " + std::to_string(x.natTo.port));
    if (x.natTo.port == failPort) return Status::error(EPERM, "fake: withdraw refused");
    return {};
  }
  void withdrawMany(std::span<const core::Expectation> xs, std::span<Status> out) override {
    {
      std::unique_lock<std::mutex> lk(mu_);
      batches_.push_back(xs.size());
      entered_ = true;
      cv_.notify_all();
      cv_.wait(lk, [this] { return !held_; });
    }
    for (size_t i = 0; i < xs.size(); ++i) out[i] = withdraw(xs[i]);
  }

  // withdrawMany() waits from now on until release().
  void hold() {
    const std::lock_guard<std::mutex> lk(mu_);
    held_ = true;
  }
  void release() {
    const std::lock_guard<std::mutex> lk(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // Waits until a withdrawMany() call has begun.
  void waitEntered() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [this] { return entered_; });
  }
  std::vector<size_t> batches() const {
    const std::lock_guard<std::mutex> lk(mu_);
    return batches_;
  }

  uint16_t failPort = 0;  // withdrawals of this pin port fail with EPERM

 private:
  PinholeJournal& journal_;
  std::string who_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  bool entered_ = false;
  std::vector<size_t> batches_;
};

}  // namespace ftpalg::test
