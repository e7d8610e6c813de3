// Pinhole mode (kernels without nfnetlink_cthelper): binds every configured queue (one thread
// each), adopts (or creates) ftpalg's nftables pinhole table (and, with --install-rules,
// installs the queueing rules), keeps both restored while it serves (daemon/table_keeper.h)
// until SIGTERM or SIGINT, then unbinds the queues and removes the queueing rules. The table
// stays for a successor: its pinholes expire on their own timeouts.
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

// ftpalgd --remove-table: deletes this configuration's pinhole table (absent is fine).
Status removePinholeTable(const DaemonConfig& cfg);

}  // namespace ftpalg::daemon
