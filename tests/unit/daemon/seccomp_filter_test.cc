// The seccomp allow-list: every name is a system call of this architecture; in a child with
// the filter, what the daemon does passes and anything else (socket(AF_INET), execve) ends the
// process by SIGSYS after one line naming the call.
#include "daemon/seccomp_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <functional>
#include <string>

namespace ftpalg::test {
namespace {

struct ChildResult {
  int status = 0;
  std::string err;  // what the child wrote to stderr
};

// Runs `body` in a child under the filter; its stderr is a pipe read here.
ChildResult underFilter(const std::function<void()>& body) {
  std::array<int, 2> p{};
  EXPECT_EQ(pipe(p.data()), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], STDERR_FILENO);
    close(p[0]);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(20);
    if (!daemon::installSeccompFilter().ok()) _exit(21);
    body();
    _exit(0);
  }
  close(p[1]);
  ChildResult r;
  std::array<char, 512> buf{};
  ssize_t n;
  while ((n = read(p[0], buf.data(), buf.size())) > 0)
    r.err.append(buf.data(), static_cast<size_t>(n));
  close(p[0]);
  EXPECT_EQ(waitpid(pid, &r.status, 0), pid);
  return r;
}

TEST(SeccompFilter, EveryNameIsASystemCall) {
  for (const char* name : daemon::seccompAllowList()) {
    EXPECT_NE(seccomp_syscall_resolve_name(name), __NR_SCMP_ERROR) << name;
  }
}

TEST(SeccompFilter, WhatTheDaemonDoesPasses) {
  const ChildResult r = underFilter([] {
    const int nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 12 /* NETLINK_NETFILTER */);
    const int ux = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (nl < 0 || ux < 0) _exit(30);
    close(nl);
    close(ux);
    const int fd = memfd_create("snapshot", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 4096) != 0 || fsync(fd) != 0) _exit(31);
    close(fd);
    if (prctl(PR_SET_NAME, "ftpalg-q0", 0, 0, 0) != 0) _exit(32);
    if (write(STDERR_FILENO, "ok\n", 3) != 3) _exit(33);
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.err;
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.err;
  EXPECT_EQ(r.err, "ok\n");
}

TEST(SeccompFilter, AnInetSocketStopsTheProcessWithOneLine) {
  const ChildResult r = underFilter([] { (void)socket(AF_INET, SOCK_STREAM, 0); });
  ASSERT_TRUE(WIFSIGNALED(r.status)) << r.status << " " << r.err;
  EXPECT_EQ(WTERMSIG(r.status), SIGSYS);
  EXPECT_EQ(r.err, "ftpalgd: error: seccomp: system call " + std::to_string(SYS_socket) +
                       " is not in the allow-list; stopping\n");
}

TEST(SeccompFilter, ExecveStopsTheProcess) {
  const ChildResult r = underFilter([] {
    char* const argv[] = {nullptr};
    (void)execve("/bin/true", argv, argv);
  });
  ASSERT_TRUE(WIFSIGNALED(r.status)) << r.status << " " << r.err;
  EXPECT_EQ(WTERMSIG(r.status), SIGSYS);
  EXPECT_NE(r.err.find(std::to_string(SYS_execve)), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ftpalg::test
