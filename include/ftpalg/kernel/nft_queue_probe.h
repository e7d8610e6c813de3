// Does the running kernel have the nft `queue` expression (nft_queue)? Stock distribution
// kernels do; some custom kernels have only the xtables NFQUEUE target.
//
// probeNftQueue() sends one nf_tables transaction: add a scratch table `inet ftpalg_probe_<pid>`,
// a regular (unhooked) chain, a rule holding a `queue` expression, then delete the table. The
// kernel resolves expression types when it takes NEWRULE, so an unknown `queue` fails that
// message with ENOENT and the whole transaction is aborted; if it is known, the table is created
// and deleted in the same transaction. Either way nothing is left behind and no packet ever
// traverses the scratch chain. Needs CAP_NET_ADMIN in the current network namespace.
#pragma once

#include "ftpalg/kernel/queue_rules_text.h"

namespace ftpalg::kernel {

// Present, Absent (err ENOENT or EOPNOTSUPP, the kernel's refusal of the rule) or Unknown (err:
// why the probe could not tell, e.g. EPERM without CAP_NET_ADMIN).
NftQueueProbe probeNftQueue();

}  // namespace ftpalg::kernel
