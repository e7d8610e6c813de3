// Withdrawals off the packet path (pinhole mode). An ended session's withdrawals precede no
// verdict, yet each is an nf_tables transaction the queue thread would wait for (milliseconds
// under load, while every queued packet waits too). So the queue thread posts them here and
// goes on; after its receive batch's verdicts left it kicks a thread of the queue's own, which
// has its own nf_tables socket (a PinholeBackend of its own) and withdraws what is pending in
// as few transactions as the kernel allows (kernel::PinholeTable::withdrawMany).
//  - Bounded: at most `capacity` withdrawals outstanding; post() refuses more and the caller
//    withdraws synchronously (counted). Nothing is dropped.
//  - Ordered: before an admit, settle() finishes every outstanding withdrawal that shares a set
//    key with it (a client reusing its port, a repeated PORT), so a withdrawal never deletes
//    an admit that came after it: one still queued is taken back and withdrawn through the
//    caller's own backend, one the thread has in flight is waited for.
//  - Drained: drain() (worker stop) returns once every posted withdrawal is done.
//  - Outcomes go back to the queue thread (collect()), which counts and logs them as it always
//    did (reportWithdrawal), so the worker's counters keep one writer.
// The thread starts with the first kick(), on the queue thread: after the privileges are
// dropped and the seccomp filter is in place (it needs futex, sendto, recvfrom, poll and one
// netlink socket, all allowed).
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon/admit_backends.h"
#include "daemon/worker_log.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// One withdrawal, as the engine's withdraw event named it.
struct Withdrawal {
  core::FlowKey flow;
  core::Expectation expect;
  core::Reason reason = core::Reason::SessionEnded;
};

// A withdrawal done, with the kernel's answer.
struct WithdrawOutcome {
  Withdrawal withdrawal;
  Status status;
};

// Counts and logs one withdrawal's outcome (`admitName`: "pinhole", "expectation"): withdrawn,
// or Failure::WithdrawFailed. On the queue thread.
void reportWithdrawal(WorkerLog& log, std::string_view admitName, const Withdrawal& w,
                      const Status& status, uint64_t nowNs);

// The queue of one worker (see above). Each call names the thread it belongs to.
class WithdrawQueue {
 public:
  // Who withdraws: a thread of the queue's own (ftpalgd), whoever calls serveOnce() (tests), or
  // the queue thread itself in kick(), after its batch's verdicts left (FTPALGD_WITHDRAW=batch:
  // for comparison; it still waits for the transactions, but between batches).
  enum class Serving : uint8_t { Thread, Caller, Kick };
  // Withdrawals taken per round of the thread (one transaction: 4 elements each at most).
  static constexpr size_t kBatch = 40;

  // `backend` is used by the serving thread only.
  WithdrawQueue(std::unique_ptr<PinholeBackend> backend, size_t capacity,
                Serving serving = Serving::Thread);
  // Drains, then ends the thread.
  ~WithdrawQueue();
  WithdrawQueue(const WithdrawQueue&) = delete;
  WithdrawQueue& operator=(const WithdrawQueue&) = delete;

  // Queue thread: takes `w` for later; false when `capacity` withdrawals are outstanding
  // (queued, in flight, or done and not collected yet).
  bool post(const Withdrawal& w);
  // Queue thread, once a receive batch's verdicts left: lets the thread withdraw what was
  // posted (starting it the first time); Serving::Kick withdraws it here.
  void kick();
  // Queue thread, before admitting `x`: every outstanding withdrawal sharing a set key with `x`
  // is done first (see above); the ones taken back are withdrawn through `sync` and their
  // outcomes appended to `done`. Returns how many withdrawals it finished or waited for. One
  // atomic load when nothing is pending; a counting filter over (source, port) otherwise.
  size_t settle(const core::Expectation& x, PinholeBackend& sync,
                std::vector<WithdrawOutcome>& done);
  // Queue thread: appends the outcomes finished since the last call.
  void collect(std::vector<WithdrawOutcome>& out);
  // Returns once every posted withdrawal is done (withdrawing them on the calling thread when
  // no thread serves the queue).
  void drain();
  // Serving::Caller: withdraws up to kBatch queued withdrawals on the calling thread; false
  // when none was queued.
  bool serveOnce();

  // Posted and not done yet.
  [[nodiscard]] size_t pending() const { return pending_.load(std::memory_order_relaxed); }
  // How the serving thread's backend deletes elements, once known.
  [[nodiscard]] kernel::DeleteForm deleteForm() const {
    return form_.load(std::memory_order_relaxed);
  }
  // Whether withdrawing `a` could delete an element that admitting `b` installs: the same
  // source and the same pin key (the pin element), or the same announced endpoint with both
  // sent elsewhere (the NAT map element and its single-use mark) or both source-NATed (the
  // source NAT map element, keyed by the dialled destination).
  static bool sharesKey(const core::Expectation& a, const core::Expectation& b);

 private:
  // With `lk` held: takes up to kBatch queued withdrawals, withdraws them with `lk` released,
  // and files their outcomes. False when none was queued.
  bool serveBatch(std::unique_lock<std::mutex>& lk);
  void run();
  // The counting filter: +1 / -1 for the (source, port) slots of `x`'s keys.
  void count(const core::Expectation& x, int delta);
  [[nodiscard]] bool mayShare(const core::Expectation& x) const;

  std::unique_ptr<PinholeBackend> backend_;
  const size_t capacity_;
  const Serving serving_;

  mutable std::mutex mu_;
  std::condition_variable work_;  // the thread: posted and kicked, or stopping
  std::condition_variable done_;  // settle() and drain(): a batch finished
  std::vector<Withdrawal> ring_;  // queued: ring_[(head_ + i) % capacity_], i < queued_
  size_t head_ = 0;
  size_t queued_ = 0;
  std::vector<Withdrawal> inflight_;       // taken by the serving thread
  std::vector<core::Expectation> xs_;      // their expectations, contiguous for withdrawMany
  std::vector<Status> results_;            // their outcomes
  uint64_t batches_ = 0;                   // batches finished
  std::vector<WithdrawOutcome> finished_;  // done, not collected yet
  size_t outstanding_ = 0;                 // queued + in flight + finished
  std::array<uint16_t, 256> filter_{};
  bool kicked_ = false;
  bool stop_ = false;
  std::atomic<size_t> pending_{0};    // queued + in flight
  std::atomic<size_t> finishedN_{0};  // finished_.size()
  std::atomic<kernel::DeleteForm> form_{kernel::DeleteForm::Unknown};
  std::thread thread_;
};

}  // namespace ftpalg::daemon
