// The nf_tables messages of expectation mode's table (see ftpalg/kernel/helper_rules.h for
// what it holds). Pure message building: no socket, testable without a kernel.
#pragma once

#include <string_view>

#include "ftpalg/kernel/helper_rules.h"
#include "kernel/nftables/nft_batch.h"

namespace ftpalg::kernel::nft {

// add table inet ftpalg_helper, its `ct helper` object for spec.helper (tcp, no l3proto: the
// kernel looks the helper up for IPv4 and IPv6), chain `pre` (filter hook prerouting priority
// kHelperChainPriority, -150, policy accept) and one `tcp dport P ct state new ct helper set
// "ftpalg-ftp"` rule per port. Every message carries `label`, which must outlive the batch. False
// when the batch is full.
bool appendHelperRules(NftBatch& batch, const HelperRuleSpec& spec, std::string_view label);
// The same after `add table` + `delete table` in the same batch: replaces a table left by a
// predecessor atomically, so control connections opened during a restart still get the helper.
bool appendReplaceHelperRules(NftBatch& batch, const HelperRuleSpec& spec, std::string_view label);

}  // namespace ftpalg::kernel::nft
