#include "daemon/control_server.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "daemon/clock.h"
#include "daemon/control_request.h"
#include "daemon/ct_state_takeover.h"
#include "daemon/log.h"

namespace ftpalg::daemon {
namespace {

ControlSettings& registered() {
  static ControlSettings s;
  return s;
}

bool socketAddress(const std::string& path, sockaddr_un& out) {
  out = sockaddr_un{};
  out.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof out.sun_path) return false;
  std::memcpy(out.sun_path, path.data(), path.size());
  return true;
}

// True when a process accepts connections on `addr` (a live daemon: do not take its socket).
bool answering(const sockaddr_un& addr) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool live = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return live;
}

// Milliseconds left until `deadline`, at least 0.
int msLeft(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Reads one line (without "\n") of at most kMaxRequestBytes + 1 bytes until `deadline`; false
// on timeout, error or a peer that closed before a newline.
bool readLine(int fd, std::chrono::steady_clock::time_point deadline, std::string& line) {
  std::array<char, kMaxRequestBytes + 2> buf{};
  size_t used = 0;
  while (used < buf.size()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, msLeft(deadline)) <= 0) return false;
    const ssize_t n = read(fd, buf.data() + used, buf.size() - used);
    if (n <= 0) return false;
    const char* nl = static_cast<const char*>(std::memchr(buf.data() + used, '\n', size_t(n)));
    used += static_cast<size_t>(n);
    if (nl != nullptr) {
      line.assign(buf.data(), static_cast<size_t>(nl - buf.data()));
      return true;
    }
  }
  line.assign(buf.data(), used);  // too long: the parser says so
  return true;
}

// Reads what the peer sent beyond its line (a bounded amount, without waiting): a Unix socket
// closed with unread data resets the connection before the peer read the answer.
void drain(int fd) {
  std::array<char, 4096> buf{};
  for (int i = 0; i < 16 && read(fd, buf.data(), buf.size()) > 0; ++i) {
  }
}

void writeAll(int fd, std::string_view text, std::chrono::steady_clock::time_point deadline) {
  while (!text.empty()) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, msLeft(deadline)) <= 0) return;
    const ssize_t n = send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

void registerControlSettings(const ControlSettings& settings) { registered() = settings; }
const ControlSettings& registeredControlSettings() { return registered(); }

ControlServer::ControlServer(ControlSettings settings, std::vector<QueueWorker*> workers)
    : settings_(std::move(settings)),
      workers_(std::move(workers)),
      ownUid_(geteuid()),
      startNs_(monotonicNs()) {}

ControlServer::~ControlServer() { stop(); }

Status ControlServer::open() {
  sockaddr_un addr{};
  if (!socketAddress(settings_.path, addr)) {
    return Status::error(
        fmt::format("control socket path '{}' is empty or too long", settings_.path));
  }
  if (!settings_.group.empty()) {
    const group* g = getgrnam(settings_.group.c_str());
    if (g == nullptr) return Status::error(fmt::format("unknown group '{}'", settings_.group));
    haveGroup_ = true;
    gid_ = g->gr_gid;
  }
  struct stat st {};
  if (lstat(settings_.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::error(fmt::format("{} exists and is not a socket", settings_.path));
    }
    if (answering(addr)) {
      return Status::error(fmt::format("{} is served by another process", settings_.path));
    }
    (void)unlink(settings_.path.c_str());  // stale: its daemon is gone
  }
  listenFd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listenFd_ < 0) return Status::error(errno, "control socket");
  // The file is created with the process umask (the unit's 0077: owner only) and narrowed or
  // opened to the group below; connecting needs write permission, so it is never wider.
  if (bind(listenFd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    return Status::error(errno, fmt::format("binding {}", settings_.path));
  }
  if (haveGroup_ && chown(settings_.path.c_str(), static_cast<uid_t>(-1), gid_) < 0) {
    return Status::error(errno, fmt::format("chgrp {} {}", settings_.group, settings_.path));
  }
  if (chmod(settings_.path.c_str(), haveGroup_ ? 0660 : 0600) < 0) {
    return Status::error(errno, fmt::format("chmod {}", settings_.path));
  }
  if (listen(listenFd_, kBacklog) < 0) return Status::error(errno, "listen");
  if (pipe2(stopPipe_, O_CLOEXEC) < 0) return Status::error(errno, "pipe2");
  return {};
}

void ControlServer::start() {
  if (listenFd_ < 0 || thread_.joinable()) return;
  thread_ = std::thread([this] { serve(); });
}

void ControlServer::stop() {
  if (thread_.joinable()) {
    const char c = 's';
    (void)!write(stopPipe_[1], &c, 1);
    thread_.join();
  }
  if (listenFd_ >= 0) {
    close(listenFd_);
    listenFd_ = -1;
    (void)unlink(settings_.path.c_str());
  }
  for (int& fd : stopPipe_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

void ControlServer::serve() {
  while (true) {
    std::array<pollfd, 2> p{pollfd{listenFd_, POLLIN, 0}, pollfd{stopPipe_[0], POLLIN, 0}};
    if (poll(p.data(), p.size(), -1) < 0 && errno != EINTR) return;
    if ((p[1].revents & POLLIN) != 0) return;
    if ((p[0].revents & POLLIN) == 0) continue;
    const int fd = accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    serveClient(fd);
    drain(fd);
    close(fd);
  }
}

bool ControlServer::allowed(uid_t uid, gid_t gid, const std::vector<gid_t>& groups) const {
  if (uid == 0 || uid == ownUid_) return true;
  if (!haveGroup_) return false;
  return gid == gid_ || std::find(groups.begin(), groups.end(), gid_) != groups.end();
}

void ControlServer::serveClient(int fd) {
  // The line is read first, also from a peer that will be refused: closing a Unix socket with
  // unread data resets the connection, and the peer would not see the refusal.
  std::string line;
  const bool haveLine = readLine(fd, std::chrono::steady_clock::now() + kReadTimeout, line);
  ucred cred{};
  socklen_t len = sizeof cred;
  std::array<gid_t, 64> groups{};
  socklen_t glen = sizeof groups;
  std::vector<gid_t> peerGroups;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
    peerGroups.assign(groups.begin(), groups.begin() + glen / sizeof(gid_t));
  }
  const auto deadline = std::chrono::steady_clock::now() + kWriteTimeout;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
      !allowed(cred.uid, cred.gid, peerGroups)) {
    logf(LogLevel::Warning, "control socket: uid {} refused (not root, not in group '{}')",
         cred.uid, settings_.group);
    writeAll(fd,
             errorResponse("forbidden", "permission denied: root or the control group only") + "\n",
             deadline);
    return;
  }
  if (!haveLine) {
    writeAll(fd, errorResponse("timeout", "no request line in time") + "\n", deadline);
    return;
  }
  const std::string response = answer(line);
  writeAll(fd, response + "\n", std::chrono::steady_clock::now() + kWriteTimeout);
}

DaemonInfo ControlServer::info() const {
  return DaemonInfo{static_cast<int64_t>(getpid()), settings_.kernelMode, monotonicNs() - startNs_,
                    static_cast<uint64_t>(kWorkerTimeout.count())};
}

std::vector<QueueAnswer> ControlServer::ask(const StatusQuestion& q) {
  // Every worker is asked first, then waited for against one deadline.
  std::vector<uint64_t> tickets;
  for (QueueWorker* w : workers_) tickets.push_back(w->statusMailbox().post(q));
  const auto deadline = std::chrono::steady_clock::now() + kWorkerTimeout;
  std::vector<QueueAnswer> answers;
  for (size_t i = 0; i < workers_.size(); ++i) {
    QueueAnswer a{
        workers_[i]->queueNum(), &workers_[i]->stats(), false, {}, &workers_[i]->published()};
    if (std::optional<std::string> text = workers_[i]->statusMailbox().wait(tickets[i], deadline)) {
      a.answered = true;
      a.members = std::move(*text);
    }
    answers.push_back(std::move(a));
  }
  return answers;
}

std::string ControlServer::answer(std::string_view line) {
  ControlRequest r;
  if (const RequestError e = parseControlRequest(line, r); e != RequestError::None) {
    return errorResponse(requestErrorName(e), "requests: 'status' or 'session <client>-<server>'");
  }
  if (r.kind == ControlRequest::Kind::Status) {
    return statusResponse(info(), ask(StatusQuestion{}));
  }
  if (r.kind == ControlRequest::Kind::Takeover) return takeoverAnswer();
  return sessionResponse(info(), r.flow,
                         ask(StatusQuestion{StatusQuestion::Kind::Session, r.flow}));
}

}  // namespace ftpalg::daemon
