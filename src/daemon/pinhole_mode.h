// Pinhole mode (kernels without nfnetlink_cthelper): binds every configured queue (one thread
// each), installs ftpalg's nftables pinhole table (and, with --install-rules, the queueing
// rules), serves until SIGTERM or SIGINT, then unbinds the queues and removes what it installed.
#pragma once

#include <signal.h>

#include "daemon/config.h"
#include "daemon/event_sink.h"
#include "daemon/queue_rules.h"

namespace ftpalg::daemon {

// Serves until one of `sigs` (blocked by the caller) is SIGTERM or SIGINT. Returns the exit
// status (0, or 1 when the kernel side failed).
int runPinholeMode(const DaemonConfig& cfg, const RuleSpec& rules, EventSink& events,
                   const sigset_t& sigs);

}  // namespace ftpalg::daemon
