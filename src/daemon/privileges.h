// What ftpalgd keeps after setup (docs/daemon.md, "Privileges"): a user other than root where
// one is configured or the `ftpalg` user exists, only CAP_NET_ADMIN (effective, permitted,
// bounding; no inheritable, no ambient), no_new_privs, and the seccomp allow-list of
// seccomp_filter.h. Netlink (nfqueue, ctnetlink, nf_tables, cthelper) needs CAP_NET_ADMIN and
// nothing else; everything that needs more (binding queues with SO_RCVBUFFORCE, installing
// tables, opening the events file and the kernel's 0440 queue statistics) happens before.
//
// main() resolves the plan at start (an unknown `user` or `group` is a configuration error)
// and registers it; the serve loop applies it once, on the main thread, before the queue
// threads start (they inherit its credentials; a uid change also clears every capability of
// threads already running, such as the events writer).
#pragma once

#include <sys/types.h>

#include <string>

#include "daemon/config.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// The resolved privileges ftpalgd will run with.
struct PrivilegePlan {
  bool changeId = false;  // setresuid/setresgid to uid/gid (started as root, a user resolved)
  uid_t uid = 0;
  gid_t gid = 0;
  std::string user;     // name of uid, for the log line
  std::string warning;  // logged when the plan is applied (e.g. staying uid 0)
  bool seccomp = true;
  std::string eventsPath;  // chowned to uid:gid when changing id (SIGHUP reopens it as uid)
  std::string stateDir;    // chowned with its snapshots when changing id (written as uid)
};

// The default user when `user` is not set.
inline constexpr const char* kDefaultUser = "ftpalg";

// Resolves cfg.user / cfg.group / cfg.seccomp (and FTPALGD_SECCOMP=off in the environment)
// for a process whose effective uid is `euid`.
Status planPrivileges(const DaemonConfig& cfg, uid_t euid, PrivilegePlan& out);

// Applies `plan` to the calling thread (and, for the uid and seccomp, the whole process): see
// the header comment. Logs one info line with the result.
Status dropPrivileges(const PrivilegePlan& plan);

// The plan main() registered, applied by the serve loop; true (nothing to do) when none was
// registered (unit tests).
void registerPrivilegePlan(const PrivilegePlan& plan);
Status applyRegisteredPrivileges();
// Whether applyRegisteredPrivileges() failed (main exits 1 then).
[[nodiscard]] bool privilegeDropFailed();

}  // namespace ftpalg::daemon
