// The nf_tables messages of ftpalgd's queueing tables (see ftpalg/kernel/queue_rules.h for what
// they hold). Pure message building: no socket, testable without a kernel.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "ftpalg/kernel/queue_rules_text.h"
#include "kernel/nftables/nft_batch.h"

namespace ftpalg::kernel::nft {

// The families (NFPROTO_*) whose ftpalg_queue table holds the rules of `form`: inet for the nft
// form, ip and ip6 for nft_compat (xtables targets are registered per family).
std::span<const uint16_t> queueFamilies(QueueForm form);
// Every family an ftpalg_queue table may exist in: inet, ip, ip6.
std::span<const uint16_t> allQueueFamilies();
// "inet", "ip", "ip6" (for messages).
const char* familyName(uint16_t family);

// For each family of `form`: add table ftpalg_queue, its chain `forward` (filter hook forward
// priority kQueuePriority) and, per control port, `tcp dport P` and `tcp sport P` rules whose
// verdict is the nft `queue` expression or the xt NFQUEUE target (revision 3) over the queue
// range, bypass when spec.bypass. Every message carries `label`, which must outlive the batch.
// False when the batch is full.
bool appendQueueRules(NftBatch& batch, const QueueRuleSpec& spec, QueueForm form,
                      std::string_view label);

}  // namespace ftpalg::kernel::nft
