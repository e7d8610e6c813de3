// Self-healing kernel objects of pinhole mode: a thread of its own (never the packet path)
// listens to nf_tables notifications and, when ftpalgd's pinhole table or (with
// --install-rules) its queueing tables are deleted or damaged (`nft flush ruleset`, `nft delete
// table`, `nft flush chain`, an nftables.service reload), restores them, logs one line per
// incident with the time from the notification to the restored table, and counts it. A look
// at the kernel every few seconds covers lost notifications. While the table is missing,
// admits fail and announcements get the AdmitFailed verdict (failure_policy.h): dropped, and
// the retransmission admits once the table is back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "ftpalg/kernel/nft_watch.h"
#include "ftpalg/kernel/pinhole_keeper.h"
#include "ftpalg/kernel/queue_rules.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

class TableKeeper {
 public:
  // `rules` (may be null: not installed by ftpalgd) must outlive the keeper.
  TableKeeper(const kernel::PinholeConfig& pinhole, kernel::QueueRules* rules);
  ~TableKeeper();
  TableKeeper(const TableKeeper&) = delete;
  TableKeeper& operator=(const TableKeeper&) = delete;

  // Opens the notification socket and notes the queueing tables' shape. Call after the table
  // and the rules are installed, before privileges are dropped.
  Status open();
  void start();
  // Stops and joins the thread (before the queueing rules are removed at exit).
  void stop();

  [[nodiscard]] uint64_t incidents() const { return incidents_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint32_t lastRestoreMs() const {
    return lastRestoreMs_.load(std::memory_order_relaxed);
  }

 private:
  using Clock = std::chrono::steady_clock;
  void run();
  // Looks at the kernel; restores what is missing. `since`: when the incident began.
  void look(Clock::time_point since, uint32_t portId);
  bool lookPinholes(std::string& what);
  bool lookQueueRules(std::string& what);

  kernel::PinholeConfig pinholeCfg_;
  kernel::PinholeKeeper pinholes_;
  kernel::QueueRules* rules_;
  std::vector<kernel::TableRules> queueShape_;  // as installed
  kernel::NftWatch watch_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> incidents_{0};
  std::atomic<uint32_t> lastRestoreMs_{0};
  uint64_t elementsDeleted_ = 0;
  bool failing_ = false;      // a restore failed; retried, logged again when it succeeds
  bool watchFailed_ = false;  // reading notifications failed (logged once)
  bool otherLayout_ = false;  // logged once: someone else's table of our name
};

}  // namespace ftpalg::daemon
