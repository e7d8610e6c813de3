#include "daemon/privileges.h"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <vector>

#include "daemon/log.h"
#include "daemon/seccomp_filter.h"

namespace ftpalg::daemon {
namespace {

// The one capability kept.
constexpr unsigned kKeptCap = CAP_NET_ADMIN;

std::optional<PrivilegePlan> gPlan;
std::atomic<bool> gFailed{false};

bool lookupUser(const std::string& name, uid_t& uid, gid_t& gid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* res = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || res == nullptr) {
    return false;
  }
  uid = pw.pw_uid;
  gid = pw.pw_gid;
  return true;
}

bool lookupGroup(const std::string& name, gid_t& gid) {
  std::vector<char> buf(16384);
  group gr{};
  group* res = nullptr;
  if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &res) != 0 || res == nullptr) {
    return false;
  }
  gid = gr.gr_gid;
  return true;
}

// Effective and permitted = {kKeptCap}, inheritable empty (this thread).
Status setCaps() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3> data{};
  data[kKeptCap / 32].effective = 1u << (kKeptCap % 32);
  data[kKeptCap / 32].permitted = 1u << (kKeptCap % 32);
  if (syscall(SYS_capset, &hdr, data.data()) != 0) {
    return Status::error(errno, "capset (CAP_NET_ADMIN only; is it permitted?)");
  }
  return {};
}

// Every capability but kKeptCap leaves the bounding set (needs CAP_SETPCAP: root only).
Status dropBounding() {
  for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; ++c) {
    if (static_cast<unsigned>(c) == kKeptCap) continue;
    if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) return Status::error(errno, "PR_CAPBSET_DROP");
  }
  return {};
}

Status changeId(const PrivilegePlan& plan) {
  // Keep the permitted set across the uid change; setCaps() then trims it.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Status::error(errno, "PR_SET_KEEPCAPS");
  if (setgroups(0, nullptr) != 0) return Status::error(errno, "setgroups");
  if (setresgid(plan.gid, plan.gid, plan.gid) != 0) return Status::error(errno, "setresgid");
  if (setresuid(plan.uid, plan.uid, plan.uid) != 0) return Status::error(errno, "setresuid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return Status::error(errno, "PR_SET_KEEPCAPS");
  return {};
}

// The events file belongs to the user the daemon writes (and on SIGHUP reopens) it as.
void chownEvents(const PrivilegePlan& plan) {
  if (plan.eventsPath.empty() || plan.eventsPath == "-") return;
  struct stat st {};
  if (lstat(plan.eventsPath.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;
  if (chown(plan.eventsPath.c_str(), plan.uid, plan.gid) != 0) {
    logf(LogLevel::Warning, "privileges: chown {} to uid {}: {}", plan.eventsPath, plan.uid,
         std::strerror(errno));
  }
}

// The session snapshots are written (renamed, removed) as the user after the drop: the state
// directory, its per-namespace and per-queue directories and their files, created as root at start,
// become its.
void chownState(const PrivilegePlan& plan) {
  if (plan.stateDir.empty()) return;
  std::error_code ec;
  const std::filesystem::path root(plan.stateDir);
  if (!std::filesystem::is_directory(root, ec)) return;
  const auto own = [&](const std::filesystem::path& p) {
    if (lchown(p.c_str(), plan.uid, plan.gid) != 0) {
      logf(LogLevel::Warning, "privileges: chown {} to uid {}: {}", p.string(), plan.uid,
           std::strerror(errno));
    }
  };
  own(root);
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 2) continue;  // net-<ns>/queue-<N>/<snapshot>
    own(it->path());
  }
}

}  // namespace

Status planPrivileges(const DaemonConfig& cfg, uid_t euid, PrivilegePlan& out) {
  PrivilegePlan p;
  p.seccomp = cfg.seccomp;
  if (const char* env = std::getenv("FTPALGD_SECCOMP");
      env != nullptr && std::strcmp(env, "off") == 0) {
    p.seccomp = false;
  }
  p.eventsPath = cfg.eventsPath;
  p.stateDir = cfg.stateDir;
  p.uid = euid;
  p.gid = getegid();
  if (euid != 0) {
    // Started as a user (systemd User= with AmbientCapabilities=CAP_NET_ADMIN): no id to change.
    p.user = "uid " + std::to_string(euid);
    out = std::move(p);
    return {};
  }
  const std::string name = cfg.user.empty() ? kDefaultUser : cfg.user;
  uid_t uid = 0;
  gid_t gid = 0;
  if (!lookupUser(name, uid, gid)) {
    if (!cfg.user.empty()) return Status::error("user '" + cfg.user + "': no such user");
    p.user = "root";
    p.warning = "no user '" + name +
                "' on this system: staying uid 0 (with CAP_NET_ADMIN only); create the system "
                "user or set `user`";
    out = std::move(p);
    return {};
  }
  if (!cfg.group.empty() && !lookupGroup(cfg.group, gid)) {
    return Status::error("group '" + cfg.group + "': no such group");
  }
  p.user = name;
  p.changeId = uid != 0;
  p.uid = uid;
  p.gid = gid;
  out = std::move(p);
  return {};
}

Status dropPrivileges(const PrivilegePlan& plan) {
  const bool root = geteuid() == 0;
  if (root) {
    if (plan.changeId) {
      chownEvents(plan);
      chownState(plan);
    }
    if (Status s = dropBounding(); !s.ok()) return s;
  }
  if (plan.changeId) {
    if (Status s = changeId(plan); !s.ok()) return s;
  }
  if (Status s = setCaps(); !s.ok()) return s;
  // EINVAL: a kernel without ambient capabilities has none to clear.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return Status::error(errno, "PR_CAP_AMBIENT_CLEAR_ALL");
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Status::error(errno, "PR_SET_NO_NEW_PRIVS");
  }
  if (plan.seccomp) {
    if (Status s = installSeccompFilter(); !s.ok()) return s;
  }
  if (!plan.warning.empty()) logf(LogLevel::Warning, "privileges: {}", plan.warning);
  logf(LogLevel::Info,
       "privileges: uid {} ({}), gid {}, capabilities cap_net_admin only, no_new_privs, {}",
       geteuid(), plan.user, getegid(),
       plan.seccomp ? "seccomp allow-list (other system calls stop the daemon)" : "seccomp off");
  return {};
}

void registerPrivilegePlan(const PrivilegePlan& plan) { gPlan = plan; }

Status applyRegisteredPrivileges() {
  if (!gPlan) return {};
  Status s = dropPrivileges(*gPlan);
  if (!s.ok()) gFailed.store(true);
  return s;
}

bool privilegeDropFailed() { return gFailed.load(); }

}  // namespace ftpalg::daemon
