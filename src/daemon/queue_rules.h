// The rules that send FTP control traffic to ftpalgd's queues.
//
// rulesText(): the iptables/ip6tables lines an admin adds (`ftpalgd --print-rules` prints them,
// followed by the pinhole table and forward-chain lines of kernel::rulesText()). The kernel has no nft `queue` statement, so
// the queueing rule is the xtables NFQUEUE target.
// QueueRules (--install-rules): the same NFQUEUE target, added through libnftnl as an nft_compat
// `target` expression (what iptables-nft does) in ftpalgd's own tables `ip ftpalg_queue` and
// `ip6 ftpalg_queue`, chain `forward` at the mangle priority (-150); removed at exit. No
// iptables binary is run, and the admin's iptables-nft tables are never touched.
//
// Both forms queue with --queue-balance over the configured queue range (the kernel hashes the
// address pair symmetrically, so both directions of a connection reach the same thread), and
// with --queue-bypass only in fail-open mode: without a daemon, fail-closed rules drop control
// traffic, fail-open rules let it pass uninspected.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/config.h"
#include "ftpalg/kernel/status.h"

namespace ftpalg::daemon {

// What the queueing rules must say.
struct RuleSpec {
  uint16_t firstQueue = 0;
  uint16_t queueCount = 1;          // contiguous range (checked by validate())
  std::vector<uint16_t> ports{21};  // control ports, 21 first
  bool bypass = false;              // --queue-bypass (fail-open)
};

RuleSpec ruleSpec(const DaemonConfig& cfg);
// The lines `ftpalgd --print-rules` prints.
std::string rulesText(const RuleSpec& spec);

class QueueRules {
 public:
  static constexpr const char* kTable = "ftpalg_queue";
  explicit QueueRules(RuleSpec spec) : spec_(std::move(spec)) {}
  // Replaces any stale ftpalg_queue tables and adds the rules; returns after the kernel
  // acknowledged every message.
  kernel::Status install();
  // Deletes both tables (absent tables are fine).
  kernel::Status remove();

 private:
  RuleSpec spec_;
};

}  // namespace ftpalg::daemon
