// Expectation mode (--kernel-mode cthelper): ftpalgd registers the userspace conntrack helper
// "ftpalg" (IPv4 and IPv6, TCP) with its queue and expectation policy, serves the one queue
// with conntrack information (each admit becomes a conntrack expectation on the control
// connection's entry, the kernel adjusts sequence numbers), and on SIGTERM/SIGINT removes, in
// this order, the rules it installed, the helper's queueing, and the helper.
#pragma once

#include <signal.h>

#include "daemon/config.h"
#include "daemon/event_sink.h"
#include "daemon/queue_worker.h"
#include "ftpalg/kernel/helper_rules.h"

namespace ftpalg::daemon {

// The helper rules of `cfg` (helper name, control ports).
kernel::HelperRuleSpec helperRuleSpec(const DaemonConfig& cfg);

// Serves until one of `sigs` (blocked by the caller) is SIGTERM or SIGINT. `settings` is the
// pinhole-mode worker configuration of the one queue; this adds what expectation mode needs.
// Returns the exit status (0, or 1 when the kernel side failed).
int runCthelperMode(const DaemonConfig& cfg, WorkerSettings settings, EventSink& events,
                    const sigset_t& sigs);

}  // namespace ftpalg::daemon
