// The queueing rules of the daemon's configuration (--install-rules, --print-rules). What they
// are and how they are added: ftpalg/kernel/queue_rules.h; main.cc decides when.
#pragma once

#include "daemon/config.h"
#include "ftpalg/kernel/queue_rules_text.h"

namespace ftpalg::daemon {

using RuleSpec = kernel::QueueRuleSpec;

// Queue range, control ports (21 first) and bypass of the daemon's configuration.
RuleSpec ruleSpec(const DaemonConfig& cfg);

}  // namespace ftpalg::daemon
