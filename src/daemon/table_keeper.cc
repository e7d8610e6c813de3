#include "daemon/table_keeper.h"

#include <poll.h>

#include "daemon/log.h"

namespace ftpalg::daemon {
namespace {

constexpr int kPollMs = 250;                         // how soon stop() is noticed
constexpr int kRetryMs = 200;                        // after a failed restore
constexpr auto kPeriodic = std::chrono::seconds(5);  // look without a notification

}  // namespace

TableKeeper::TableKeeper(const kernel::PinholeConfig& pinhole, kernel::QueueRules* rules)
    : pinholeCfg_(pinhole),
      pinholes_(pinhole),
      rules_(rules),
      watch_(rules == nullptr
                 ? std::vector<std::string>{pinhole.table}
                 : std::vector<std::string>{pinhole.table, kernel::QueueRules::kTable}) {}

TableKeeper::~TableKeeper() { stop(); }

Status TableKeeper::open() {
  if (Status s = watch_.open(); !s.ok()) return s;
  queueShape_.clear();
  if (rules_ == nullptr) return {};
  return kernel::listTables(kernel::QueueRules::kTable, queueShape_);
}

void TableKeeper::start() {
  stop_.store(false);
  thread_ = std::thread([this] { run(); });
}

void TableKeeper::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void TableKeeper::run() {
  Clock::time_point nextLook = Clock::now() + kPeriodic;
  while (!stop_.load()) {
    pollfd p{watch_.fd(), POLLIN, 0};
    (void)poll(&p, 1, failing_ ? kRetryMs : kPollMs);
    const Clock::time_point now = Clock::now();
    kernel::NftChanges ch;
    if (Status s = watch_.drain(ch); !s.ok()) {
      // Left to the periodic look; said once.
      if (!watchFailed_) logf(LogLevel::Warning, "kernel objects: {}", s.message());
      watchFailed_ = true;
    }
    if (ch.elements > 0) {
      // Respected: an admin revoking pinholes (nft flush set, delete element).
      elementsDeleted_ += ch.elements;
      logf(LogLevel::Debug, "kernel objects: {} pinhole elements deleted ({} in all)", ch.elements,
           elementsDeleted_);
    }
    if (ch.deletions > 0 || ch.overrun || failing_ || now >= nextLook) {
      look(now, ch.portId);
      nextLook = now + kPeriodic;
    }
  }
}

void TableKeeper::look(Clock::time_point since, uint32_t portId) {
  std::string what;
  const bool pinholes = lookPinholes(what);
  const bool queue = lookQueueRules(what);
  if (what.empty()) return;  // intact
  const auto ms = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
  if (!pinholes || !queue) {
    if (!failing_) logf(LogLevel::Error, "kernel objects: restoring failed: {}", what);
    failing_ = true;
    return;
  }
  failing_ = false;
  lastRestoreMs_.store(ms, std::memory_order_relaxed);
  const uint64_t n = incidents_.fetch_add(1, std::memory_order_relaxed) + 1;
  logf(LogLevel::Warning, "kernel objects: {}{}; restored in {} ms (incident {})", what,
       portId != 0 ? fmt::format(" (by netlink port {})", portId) : std::string(), ms, n);
}

// False when the table needed a restore that failed; `what` says what was wrong.
bool TableKeeper::lookPinholes(std::string& what) {
  kernel::TableCheck c;
  if (Status s = pinholes_.check(c); !s.ok()) {
    what += fmt::format("table inet {}: {}", pinholeCfg_.table, s.message());
    return false;
  }
  if (c.state == kernel::TableState::Intact) {
    otherLayout_ = false;
    return true;
  }
  if (c.state == kernel::TableState::OtherLayout) {
    // Another program's (or instance's) table of our name: fighting over it would never end.
    if (!otherLayout_) {
      logf(LogLevel::Error,
           "kernel objects: table inet {} was replaced by one of another layout ({}); left "
           "alone: give each instance its own table",
           pinholeCfg_.table, c.why);
    }
    otherLayout_ = true;
    return true;
  }
  kernel::EnsureResult r;
  const Status s = pinholes_.ensure(r);
  what +=
      fmt::format("table inet {} {}", pinholeCfg_.table,
                  c.state == kernel::TableState::Missing ? "deleted" : "damaged (" + c.why + ")");
  if (!s.ok()) {
    what += fmt::format(": {}", s.message());
    return false;
  }
  what += fmt::format(", {} pinholes pending", r.pending);
  return true;
}

bool TableKeeper::lookQueueRules(std::string& what) {
  if (rules_ == nullptr) return true;
  std::vector<kernel::TableRules> now;
  if (Status s = kernel::listTables(kernel::QueueRules::kTable, now); !s.ok()) {
    what += fmt::format("{}queueing rules: {}", what.empty() ? "" : "; ", s.message());
    return false;
  }
  bool damaged = false;
  for (const kernel::TableRules& t : queueShape_) {
    size_t n = 0;
    bool exists = false;
    for (const kernel::TableRules& x : now) {
      if (x.family == t.family) {
        exists = true;
        n = x.rules;
      }
    }
    damaged = damaged || !exists || n < t.rules;
  }
  if (!damaged) return true;
  what +=
      fmt::format("{}queueing rules ({}) deleted", what.empty() ? "" : "; ", rules_->describe());
  if (Status s = rules_->install(); !s.ok()) {
    what += fmt::format(": {}", s.message());
    return false;
  }
  return true;
}

}  // namespace ftpalg::daemon
