// The rules that send FTP control traffic to ftpalgd's queues (--install-rules).
//
// Their text (`ftpalgd --print-rules`, `ftpalg rules`) is kernel::queueRulesText() in
// src/ftpalg/kernel/queue_rules_text.h; the form comes from kernel::probeNftQueue().
// QueueRules adds the same rules through libnftnl, in ftpalgd's own tables, chain `forward` at
// the mangle priority (-150), and removes them at exit; no iptables or nft binary is run, and
// the admin's tables are never touched:
//   QueueForm::Nft       table `inet ftpalg_queue`, nft `queue` expressions (kernels that
//                        have nft_queue: stock distribution kernels)
//   QueueForm::Iptables  tables `ip ftpalg_queue` and `ip6 ftpalg_queue`, the xtables NFQUEUE
//                        target as an nft_compat `target` expression (what iptables-nft does)
//
// Both forms balance over the configured queue range (the kernel hashes the address pair
// symmetrically, so both directions of a connection reach the same thread), and bypass only in
// fail-open mode: without a daemon, fail-closed rules drop control traffic, fail-open rules let
// it pass uninspected.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "ftpalg/kernel/status.h"
#include "ftpalg/kernel/queue_rules_text.h"

namespace ftpalg::daemon {

using RuleSpec = kernel::QueueRuleSpec;

// Queue range, control ports (21 first) and bypass of the daemon's configuration.
RuleSpec ruleSpec(const DaemonConfig& cfg);

// ftpalgd's queueing tables: added by install(), deleted by remove() (the destructor leaves them).
class QueueRules {
 public:
  static constexpr const char* kTable = kernel::kQueueTable;
  QueueRules(RuleSpec spec, kernel::QueueForm form) : spec_(std::move(spec)), form_(form) {}
  // Replaces any stale ftpalg_queue tables (of either form) and adds the rules; returns after
  // the kernel acknowledged every message.
  kernel::Status install();
  // Deletes the inet, ip and ip6 ftpalg_queue tables (absent tables are fine).
  kernel::Status remove();
  // "table inet ftpalg_queue" or "tables ip/ip6 ftpalg_queue", for the log.
  [[nodiscard]] std::string describe() const;

 private:
  RuleSpec spec_;
  kernel::QueueForm form_;
};

}  // namespace ftpalg::daemon
