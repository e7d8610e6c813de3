// The rules that send FTP control traffic to ftpalgd's queues (ftpalgd --install-rules).
//
// Their text (`ftpalgd --print-rules`, `ftpalg rules`) is queueRulesText() in
// ftpalg/kernel/queue_rules_text.h; the form comes from probeNftQueue().
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

#include <string>
#include <utility>

#include "ftpalg/kernel/queue_rules_text.h"
#include "ftpalg/status.h"

namespace ftpalg::kernel {

// ftpalgd's queueing tables: added by install(), deleted by remove() (the destructor leaves
// them). Each call is one or more nf_tables transactions on a netlink socket of its own.
class QueueRules {
 public:
  static constexpr const char* kTable = kQueueTable;
  QueueRules(QueueRuleSpec spec, QueueForm form) : spec_(std::move(spec)), form_(form) {}
  // Replaces any stale ftpalg_queue tables (of either form) and adds the rules; returns after
  // the kernel acknowledged every message.
  Status install();
  // Deletes the inet, ip and ip6 ftpalg_queue tables (absent tables are fine).
  Status remove();
  // "table inet ftpalg_queue" or "tables ip/ip6 ftpalg_queue", for the log.
  [[nodiscard]] std::string describe() const;

 private:
  QueueRuleSpec spec_;
  QueueForm form_;
};

}  // namespace ftpalg::kernel
