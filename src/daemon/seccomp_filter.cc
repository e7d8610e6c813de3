#include "daemon/seccomp_filter.h"

#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace ftpalg::daemon {
namespace {

// "First argument equals `value`" (what SCMP_A0 builds, without its C compound literal).
scmp_arg_cmp argEquals(scmp_datum_t value) {
  scmp_arg_cmp cmp{};
  cmp.arg = 0;
  cmp.op = SCMP_CMP_EQ;
  cmp.datum_a = value;
  cmp.datum_b = 0;
  return cmp;
}

// Grouped by who needs them; keep docs/daemon.md and systemd/ftpalgd.service in step.
// clang-format off
constexpr const char* kAllowed[] = {
    // I/O on descriptors: netlink and the events file, stderr, the /proc statistics.
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "close", "fstat",
    "newfstatat", "statx", "fstatfs", "fcntl", "ioctl", "dup", "dup3", "pipe2", "poll", "ppoll",
    "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2",
    // Files: the events file reopened on SIGHUP, the state snapshot under /run/ftpalg.
    "openat", "fsync", "fdatasync", "ftruncate", "rename", "renameat", "renameat2", "unlink",
    "unlinkat", "mkdirat", "fchmod", "getdents64", "memfd_create", "umask",
    // Memory, threads, time.
    "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "clone", "clone3", "futex",
    "set_robust_list", "get_robust_list", "rseq", "exit", "exit_group", "gettid", "getpid",
    "getppid", "tgkill", "sched_yield", "sched_getaffinity", "nanosleep", "clock_nanosleep",
    "clock_gettime", "clock_getres", "gettimeofday", "getrandom", "prlimit64", "uname",
    "getuid", "geteuid", "getgid", "getegid",
    // Signals: sigtimedwait in the main thread, abort().
    "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "rt_sigtimedwait", "sigaltstack",
    "restart_syscall",
    // Sockets (socket() itself below): netlink, sd_notify, the control socket.
    "bind", "connect", "getsockname", "getpeername", "setsockopt", "getsockopt", "sendto",
    "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "listen", "accept4", "shutdown",
};
// clang-format on

// SECCOMP_RET_TRAP lands here: one line, then death by SIGSYS (SA_RESETHAND: the default
// action). Only async-signal-safe calls.
void onSigsys(int, siginfo_t* info, void*) {
  std::array<char, 96> line{};
  const char head[] = "ftpalgd: error: seccomp: system call ";
  size_t n = sizeof head - 1;
  std::memcpy(line.data(), head, n);
  std::array<char, 12> digits{};
  size_t d = 0;
  unsigned v = static_cast<unsigned>(info->si_syscall);
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && d < digits.size());
  while (d > 0) line[n++] = digits[--d];
  const char tail[] = " is not in the allow-list; stopping\n";
  std::memcpy(line.data() + n, tail, sizeof tail - 1);
  n += sizeof tail - 1;
  (void)!write(STDERR_FILENO, line.data(), n);
  raise(SIGSYS);
}

}  // namespace

std::span<const char* const> seccompAllowList() { return kAllowed; }

Status installSeccompFilter() {
  struct sigaction sa {};
  sa.sa_sigaction = onSigsys;
  sa.sa_flags = static_cast<int>(SA_SIGINFO | SA_RESETHAND | SA_NODEFER);
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSYS, &sa, nullptr) != 0) return Status::error(errno, "seccomp: SIGSYS handler");

  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
  if (ctx == nullptr) return Status::error("seccomp: seccomp_init failed");
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  for (const char* name : kAllowed) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR || rc != 0) continue;
    rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
  }
  for (int family : {AF_UNIX, AF_NETLINK}) {
    if (rc == 0) {
      const scmp_arg_cmp cmp = argEquals(static_cast<scmp_datum_t>(family));
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &cmp);
    }
  }
  for (int option : {PR_SET_NAME, PR_GET_NAME}) {
    if (rc == 0) {
      const scmp_arg_cmp cmp = argEquals(static_cast<scmp_datum_t>(option));
      rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1, &cmp);
    }
  }
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) return Status::error(-rc, "seccomp: installing the filter");
  return {};
}

}  // namespace ftpalg::daemon
