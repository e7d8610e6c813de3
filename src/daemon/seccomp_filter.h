// The seccomp allow-list of ftpalgd after setup (docs/daemon.md, "Privileges"): the system
// calls the serve loop, the queue threads, the events writer, logging, sd_notify and the
// teardown make, plus what the state snapshot (/run/ftpalg), the nf_tables notification and
// rtnetlink sockets and a Unix control socket need. socket() only for AF_UNIX and AF_NETLINK;
// prctl() only to name a thread. Any other system call stops the daemon: the filter traps it
// (SIGSYS), a handler writes one line naming its number ("ausyscall <n>" names it) and the
// process dies of SIGSYS (systemd restarts it). Applied to every thread (TSYNC); needs
// no_new_privs. `seccomp = false` (--no-seccomp) or FTPALGD_SECCOMP=off turn it off.
#pragma once

#include <span>

#include "ftpalg/status.h"

namespace ftpalg::daemon {

// The system calls allowed without an argument check, by name (names unknown on this
// architecture are skipped).
std::span<const char* const> seccompAllowList();

// Installs the filter on every thread of the process.
Status installSeccompFilter();

}  // namespace ftpalg::daemon
