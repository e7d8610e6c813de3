#include "daemon/withdraw_queue.h"

#include <pthread.h>

#include <algorithm>
#include <span>
#include <utility>

#include "daemon/text.h"

namespace ftpalg::daemon {
namespace {

// NAT map element and single-use mark: only when the data connection is sent elsewhere.
bool hasNat(const core::Expectation& x) { return !(x.natTo == x.dst); }

// The filter slot of (source address, port).
size_t slot(const core::IpAddr& a, uint16_t port) {
  uint32_t h = port;
  for (size_t i = 0; i < a.size(); ++i) h = h * 31 + a.bytes[i];
  return (h ^ (h >> 8)) & 255;
}

}  // namespace

void reportWithdrawal(WorkerLog& log, std::string_view admitName, const Withdrawal& w,
                      const Status& status, uint64_t nowNs) {
  if (!status.ok()) {
    (void)log.fail(Failure::WithdrawFailed, nowNs, "withdrawing {} for {} -> {} failed: {}",
                   admitName, ipText(w.expect.src.addr), endpointText(w.expect.dst),
                   status.message());
    return;
  }
  bump(log.stats().withdrawn);
  if (logEnabled(LogLevel::Debug)) {
    logf(LogLevel::Debug, "queue {}: withdrew {} {} -> {} ({}, flow {})", log.queueNum(), admitName,
         ipText(w.expect.src.addr), endpointText(w.expect.dst), core::reasonName(w.reason),
         flowText(w.flow));
  }
}

bool WithdrawQueue::sharesKey(const core::Expectation& a, const core::Expectation& b) {
  if (!(a.src.addr == b.src.addr)) return false;
  if (a.natTo == b.natTo) return true;  // the pin element
  if (!(a.dst == b.dst)) return false;
  // The NAT map element and its mark; the source NAT map element (keyed by the dialled
  // destination too).
  return (hasNat(a) && hasNat(b)) || (a.hasSrcNat && b.hasSrcNat);
}

WithdrawQueue::WithdrawQueue(std::unique_ptr<PinholeBackend> backend, size_t capacity,
                             Serving serving)
    : backend_(std::move(backend)), capacity_(std::max<size_t>(capacity, 1)), serving_(serving) {
  ring_.resize(capacity_);
  inflight_.reserve(kBatch);
  xs_.reserve(kBatch);
  results_.resize(kBatch);
  finished_.reserve(capacity_);
}

WithdrawQueue::~WithdrawQueue() {
  drain();
  {
    const std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
  }
  work_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WithdrawQueue::count(const core::Expectation& x, int delta) {
  const auto add = [&](size_t s) { filter_[s] = static_cast<uint16_t>(filter_[s] + delta); };
  add(slot(x.src.addr, x.natTo.port));
  if (hasNat(x)) add(slot(x.src.addr, x.dst.port));
}

bool WithdrawQueue::mayShare(const core::Expectation& x) const {
  if (filter_[slot(x.src.addr, x.natTo.port)] != 0) return true;
  return hasNat(x) && filter_[slot(x.src.addr, x.dst.port)] != 0;
}

bool WithdrawQueue::post(const Withdrawal& w) {
  const std::lock_guard<std::mutex> lk(mu_);
  if (outstanding_ == capacity_) return false;
  ring_[(head_ + queued_) % capacity_] = w;
  ++queued_;
  ++outstanding_;
  count(w.expect, +1);
  pending_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void WithdrawQueue::kick() {
  if (serving_ == Serving::Caller || pending() == 0) return;
  if (serving_ == Serving::Kick) {
    while (serveOnce()) {
    }
    return;
  }
  {
    const std::lock_guard<std::mutex> lk(mu_);
    if (queued_ == 0) return;
    kicked_ = true;
  }
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  work_.notify_one();
}

size_t WithdrawQueue::settle(const core::Expectation& x, PinholeBackend& sync,
                             std::vector<WithdrawOutcome>& done) {
  if (pending() == 0) return 0;
  std::unique_lock<std::mutex> lk(mu_);
  if (!mayShare(x)) return 0;
  // Queued ones: taken back (the order of the others kept), withdrawn here below.
  std::vector<Withdrawal> taken;
  size_t kept = 0;
  for (size_t i = 0; i < queued_; ++i) {
    Withdrawal& w = ring_[(head_ + i) % capacity_];
    if (sharesKey(w.expect, x)) {
      taken.push_back(w);
      count(w.expect, -1);
    } else {
      ring_[(head_ + kept++) % capacity_] = w;
    }
  }
  queued_ = kept;
  outstanding_ -= taken.size();
  pending_.fetch_sub(taken.size(), std::memory_order_relaxed);
  // One in flight: its batch is waited for.
  size_t waited = 0;
  for (const Withdrawal& w : inflight_) waited += sharesKey(w.expect, x) ? 1u : 0u;
  if (waited != 0) {
    const uint64_t batch = batches_;
    done_.wait(lk, [&] { return batches_ != batch; });
  }
  lk.unlock();
  if (!taken.empty()) {
    std::vector<core::Expectation> xs;
    for (const Withdrawal& w : taken) xs.push_back(w.expect);
    std::vector<Status> results(xs.size());
    sync.withdrawMany(xs, results);
    for (size_t i = 0; i < taken.size(); ++i) {
      done.push_back(WithdrawOutcome{taken[i], std::move(results[i])});
    }
  }
  return taken.size() + waited;
}

bool WithdrawQueue::serveBatch(std::unique_lock<std::mutex>& lk) {
  if (queued_ == 0) return false;
  const size_t n = std::min(queued_, kBatch);
  inflight_.clear();
  xs_.clear();
  for (size_t i = 0; i < n; ++i) {
    inflight_.push_back(ring_[head_]);
    xs_.push_back(ring_[head_].expect);
    head_ = (head_ + 1) % capacity_;
  }
  queued_ -= n;
  lk.unlock();
  backend_->withdrawMany(xs_, std::span<Status>(results_.data(), n));
  form_.store(backend_->deleteForm(), std::memory_order_relaxed);
  lk.lock();
  for (size_t i = 0; i < n; ++i) {
    count(inflight_[i].expect, -1);
    finished_.push_back(WithdrawOutcome{inflight_[i], std::move(results_[i])});
  }
  inflight_.clear();
  ++batches_;
  pending_.fetch_sub(n, std::memory_order_relaxed);
  finishedN_.store(finished_.size(), std::memory_order_release);
  done_.notify_all();
  return true;
}

bool WithdrawQueue::serveOnce() {
  std::unique_lock<std::mutex> lk(mu_);
  return serveBatch(lk);
}

void WithdrawQueue::run() {
  // Named for top and perf (prctl PR_SET_NAME: allowed by the seccomp filter).
  (void)pthread_setname_np(pthread_self(), "ftpalg-withdraw");
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    work_.wait(lk, [this] { return stop_ || (kicked_ && queued_ > 0); });
    if (queued_ == 0 && stop_) return;
    (void)serveBatch(lk);
    if (queued_ == 0) kicked_ = false;
  }
}

void WithdrawQueue::collect(std::vector<WithdrawOutcome>& out) {
  if (finishedN_.load(std::memory_order_acquire) == 0) return;
  const std::lock_guard<std::mutex> lk(mu_);
  for (WithdrawOutcome& o : finished_) out.push_back(std::move(o));
  outstanding_ -= finished_.size();
  finished_.clear();
  finishedN_.store(0, std::memory_order_relaxed);
}

void WithdrawQueue::drain() {
  std::unique_lock<std::mutex> lk(mu_);
  if (serving_ != Serving::Thread || !thread_.joinable()) {
    while (serveBatch(lk)) {
    }
    return;
  }
  kicked_ = true;
  work_.notify_one();
  done_.wait(lk, [this] { return queued_ == 0 && inflight_.empty(); });
}

}  // namespace ftpalg::daemon
