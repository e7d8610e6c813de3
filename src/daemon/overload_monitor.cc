#include "daemon/overload_monitor.h"

#include <fmt/format.h>

#include <utility>

#include "daemon/log.h"

namespace ftpalg::daemon {
namespace {

// Without new drops for this long a burst has ended (ticks come once a second).
constexpr uint64_t kQuietNs = 3'000'000'000;

std::string burstText(const OverloadMonitor::Totals& t, bool failOpen) {
  if (failOpen) {
    return fmt::format("{} passed uninspected (socket full), queue found full in {} sample(s)",
                       t.socketFull, t.fullSamples);
  }
  return fmt::format("{} dropped by the kernel ({} queue full, {} socket full)",
                     t.queueFull + t.socketFull, t.queueFull, t.socketFull);
}

}  // namespace

OverloadMonitor::OverloadMonitor(std::vector<Queue> queues) {
  state_.reserve(queues.size());
  for (const Queue& q : queues) {
    State st;
    st.q = q;
    st.log = BurstLog(kQuietNs);
    state_.push_back(std::move(st));
  }
}

Status OverloadMonitor::open(const char* path) {
  Status s = file_.open(path);
  if (!s.ok()) {
    logf(LogLevel::Warning,
         "overload: kernel queue counters not available ({}); counting socket "
         "drops only",
         s.message());
  }
  return s;
}

void OverloadMonitor::tick(uint64_t nowNs) {
  lines_.clear();
  if (file_.isOpen()) {
    if (Status s = file_.read(lines_); !s.ok() && !std::exchange(readFailed_, true)) {
      logf(LogLevel::Warning, "overload: {}", s.message());
    }
  }
  drops_.clear();
  for (const State& st : state_) {
    drops_.push_back(st.q.stats != nullptr ? st.q.stats->socketDrops.load(std::memory_order_relaxed)
                                           : 0);
  }
  observe(nowNs, lines_, drops_);
}

void OverloadMonitor::observe(uint64_t nowNs, const std::vector<kernel::QueueProcStats>& lines,
                              const std::vector<uint64_t>& socketDrops) {
  for (size_t i = 0; i < state_.size(); ++i) {
    const kernel::QueueProcStats* line = nullptr;
    for (const kernel::QueueProcStats& l : lines) {
      if (l.queueNum == state_[i].q.num) line = &l;
    }
    observeQueue(state_[i], nowNs, line, i < socketDrops.size() ? socketDrops[i] : 0);
  }
}

void OverloadMonitor::observeQueue(State& st, uint64_t nowNs, const kernel::QueueProcStats* line,
                                   uint64_t socketDrops) {
  Totals d;
  if (line != nullptr && st.seen) {
    d.queueFull = kernel::counterDelta(st.queueDropped, line->queueDropped);
    d.socketFull = kernel::counterDelta(st.userDropped, line->userDropped);
  }
  // Fail-closed, user_dropped already counts what sk_drops counts (and sk_drops also counts
  // undeliverable acknowledgements): only fail-open takes the socket's own counter.
  if (st.q.failOpen) {
    d.socketFull = st.seen && socketDrops >= st.socketDrops ? socketDrops - st.socketDrops : 0;
    d.fullSamples = line != nullptr && st.q.maxLen > 0 && line->queueTotal >= st.q.maxLen;
  }
  if (line != nullptr) {
    st.queueDropped = line->queueDropped;
    st.userDropped = line->userDropped;
  }
  st.socketDrops = socketDrops;
  st.seen = true;

  const uint64_t events = d.queueFull + d.socketFull + d.fullSamples;
  if (events == 0) {
    endBurst(st, nowNs, false);
    return;
  }
  st.totals.queueFull += d.queueFull;
  st.totals.socketFull += d.socketFull;
  st.totals.fullSamples += d.fullSamples;
  if (st.log.note(nowNs, events)) {
    st.burst = d;
    logf(LogLevel::Warning, "queue {}: overload: {} (queue_maxlen {}, {}); one line when it ends",
         st.q.num, burstText(d, st.q.failOpen), st.q.maxLen,
         st.q.failOpen ? "fail-open: the kernel accepts what it cannot queue"
                       : "fail-closed: the senders retransmit");
    return;
  }
  st.burst.queueFull += d.queueFull;
  st.burst.socketFull += d.socketFull;
  st.burst.fullSamples += d.fullSamples;
}

void OverloadMonitor::endBurst(State& st, uint64_t nowNs, bool force) {
  BurstLog::Ended e;
  const bool ended = st.log.end(force ? nowNs + kQuietNs : nowNs, e);
  if (!ended) return;
  logf(LogLevel::Warning, "queue {}: overload ended after {:.0f} s: {}", st.q.num,
       static_cast<double>(e.durationNs) / 1e9, burstText(st.burst, st.q.failOpen));
  st.burst = Totals{};
}

void OverloadMonitor::finish(uint64_t nowNs) {
  for (State& st : state_) {
    endBurst(st, nowNs, true);
  }
}

std::string OverloadMonitor::statusText() const {
  uint64_t queueFull = 0, socketFull = 0, fullSamples = 0;
  for (const State& st : state_) {
    queueFull += st.totals.queueFull;
    socketFull += st.totals.socketFull;
    fullSamples += st.totals.fullSamples;
  }
  if (queueFull + socketFull + fullSamples == 0) return {};
  return fmt::format(", overload: {} queue full, {} socket full, {} full samples", queueFull,
                     socketFull, fullSamples);
}

}  // namespace ftpalg::daemon
