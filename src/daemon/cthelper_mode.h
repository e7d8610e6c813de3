// Expectation mode (--kernel-mode cthelper): ftpalgd registers the userspace conntrack helper
// "ftpalg" (IPv4 and IPv6, TCP) with its queue and expectation policy, serves the one queue
// with conntrack information (each admit becomes a conntrack expectation on the control
// connection's entry, the kernel adjusts sequence numbers). SIGTERM/SIGINT only disables the
// helper: the registration, its pending expectations and the installed rules stay for the next
// instance, which adopts them (docs/daemon.md, "Expectation mode across restarts").
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

// --remove-helper: deletes the installed table and unregisters the helper (the kernel deletes
// its pending expectations and detaches it from every connection). Returns the exit status.
int removeCthelperState(const DaemonConfig& cfg, const WorkerSettings& settings);

// --disable-helper (systemd ExecStopPost): disables the helper if a crashed instance left it
// enabled, so that its connections pass the whole conntrack confirm step (seqadj, confirmation)
// until the next start instead of skipping it. Keeps the registration. Returns the exit status.
int disableCthelper(const DaemonConfig& cfg, const WorkerSettings& settings);

}  // namespace ftpalg::daemon
