#include "daemon/metrics_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "daemon/clock.h"
#include "daemon/log.h"
#include "daemon/metrics_text.h"
#include "daemon/queue_worker.h"
#include "ftpalg/core/number.h"
#include "ftpalg/core/types.h"

namespace ftpalg::daemon {
namespace {

MetricsSettings& registered() {
  static MetricsSettings s;
  return s;
}

std::string errnoText(int err) { return std::strerror(err); }

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// "GET /metrics HTTP/1.1" -> method and target ("" when the line has fewer than two words).
std::pair<std::string_view, std::string_view> requestLine(std::string_view request) {
  const size_t eol = request.find_first_of("\r\n");
  std::string_view line = request.substr(0, eol);
  const size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return {};
  const std::string_view method = line.substr(0, sp);
  line.remove_prefix(sp + 1);
  return {method, line.substr(0, line.find(' '))};
}

std::string response(std::string_view status, std::string_view type, std::string_view body,
                     bool withBody) {
  std::string out = fmt::format(
      "HTTP/1.0 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", status,
      type, body.size());
  if (withBody) out += body;
  return out;
}

// The end of a request's head (the blank line), or npos.
size_t headEnd(std::string_view in) {
  const size_t crlf = in.find("\r\n\r\n");
  if (crlf != std::string_view::npos) return crlf + 4;
  const size_t lf = in.find("\n\n");
  return lf == std::string_view::npos ? lf : lf + 2;
}

}  // namespace

void registerMetricsSettings(const MetricsSettings& s) { registered() = s; }
const MetricsSettings& registeredMetricsSettings() { return registered(); }

std::vector<MetricsSource> metricsSources(const std::vector<QueueWorker*>& workers) {
  std::vector<MetricsSource> out;
  for (const QueueWorker* w : workers) {
    out.push_back({w->queueNum(), &w->stats(), &w->metrics(), &w->published()});
  }
  return out;
}

MetricsServer::MetricsServer(MetricsSettings settings, std::vector<MetricsSource> sources)
    : settings_(std::move(settings)), sources_(std::move(sources)), kernel_(sources_.size()) {}

MetricsServer::~MetricsServer() { stop(); }

std::string MetricsServer::respond(std::string_view request, std::string_view body) {
  const auto [method, target] = requestLine(request);
  constexpr std::string_view kText = "text/plain; charset=utf-8";
  if (method != "GET" && method != "HEAD") {
    return response("405 Method Not Allowed", kText, "GET /metrics\n", true);
  }
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics" && path != "/")
    return response("404 Not Found", kText, "GET /metrics\n", true);
  return response("200 OK", kExpositionContentType, body, method == "GET");
}

void MetricsServer::openUnix() {
  const std::string& path = settings_.socketPath;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    logf(LogLevel::Warning, "metrics socket {}: path too long; not served", path);
    return;
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  // A socket file left by an earlier instance is replaced; one that answers belongs to a running
  // instance and stays (this one serves no Unix socket then). Anything else is not ours.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      logf(LogLevel::Warning, "metrics socket {}: exists and is not a socket; not served", path);
      return;
    }
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live =
        probe >= 0 && ::connect(probe, reinterpret_cast<const sockaddr*>(&sa), len) == 0;
    if (probe >= 0) ::close(probe);
    if (live) {
      logf(LogLevel::Warning, "metrics socket {}: another process serves it; not served", path);
      return;
    }
    (void)::unlink(path.c_str());
  }
  // The directory (/run/ftpalg) may not exist outside systemd.
  if (const size_t slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    (void)::mkdir(path.substr(0, slash).c_str(), 0755);
  }
  unixFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (unixFd_ < 0 || ::bind(unixFd_, reinterpret_cast<const sockaddr*>(&sa), len) != 0 ||
      ::listen(unixFd_, static_cast<int>(kMaxConnections)) != 0) {
    logf(LogLevel::Warning, "metrics socket {}: {}; not served", path, errnoText(errno));
    closeFd(unixFd_);
    return;
  }
  // Owner and group only (the directory's mode narrows it further: docs/daemon.md).
  (void)::chmod(path.c_str(), 0660);
  if (::stat(path.c_str(), &st) == 0) {
    unixDev_ = st.st_dev;
    unixIno_ = st.st_ino;
  }
  logf(LogLevel::Info, "metrics on unix socket {}", path);
}

void MetricsServer::openTcp() {
  const std::string& text = settings_.listen;
  // "ADDR:PORT" or "[ADDR6]:PORT"; config.cc has checked it (loopback only).
  const size_t colon = text.rfind(':');
  std::string_view host = std::string_view(text).substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  core::IpAddr addr;
  uint16_t port = 0;
  if (colon == std::string::npos || !core::parseIp(host, addr) ||
      !core::parseNumber<uint16_t>(std::string_view(text).substr(colon + 1), port, 0, 65535, 5)) {
    logf(LogLevel::Warning, "metrics_listen {}: not ADDR:PORT; not served", text);
    return;
  }
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (addr.family == core::Family::V4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    std::memcpy(&in->sin_addr, addr.bytes.data(), 4);
    len = sizeof *in;
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, addr.bytes.data(), 16);
    len = sizeof *in6;
  }
  tcpFd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (tcpFd_ >= 0) (void)::setsockopt(tcpFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (tcpFd_ < 0 || ::bind(tcpFd_, reinterpret_cast<const sockaddr*>(&ss), len) != 0 ||
      ::listen(tcpFd_, static_cast<int>(kMaxConnections)) != 0) {
    // Under the shipped unit: RestrictAddressFamilies= has no AF_INET (docs/daemon.md).
    logf(LogLevel::Warning, "metrics_listen {}: {}; not served", text, errnoText(errno));
    closeFd(tcpFd_);
    return;
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  if (::getsockname(tcpFd_, reinterpret_cast<sockaddr*>(&bound), &blen) == 0) {
    tcpPort_ =
        ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                         : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  }
  logf(LogLevel::Info, "metrics on tcp {}", text);
}

void MetricsServer::open() {
  if (!settings_.socketPath.empty()) openUnix();
  if (!settings_.listen.empty()) openTcp();
  if (unixFd_ < 0 && tcpFd_ < 0 && settings_.textfile.empty()) return;
  if (Status s = proc_.open(settings_.procPath.c_str()); !s.ok()) {
    logf(LogLevel::Info, "metrics: no kernel queue statistics ({})", s.message());
  }
}

void MetricsServer::start() {
  if (unixFd_ < 0 && tcpFd_ < 0 && settings_.textfile.empty()) return;
  wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd_ < 0) {
    logf(LogLevel::Warning, "metrics: eventfd: {}; not served", errnoText(errno));
    return;
  }
  thread_ = std::thread([this] { run(); });
}

void MetricsServer::stop() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    (void)!::write(wakeFd_, &one, sizeof one);
    thread_.join();
  }
  closeFd(wakeFd_);
  for (Conn& c : conns_) closeFd(c.fd);
  conns_.clear();
  if (!settings_.textfile.empty()) writeTextfile();
  settings_.textfile.clear();  // once
  if (unixFd_ >= 0) {
    struct stat st {};
    if (::stat(settings_.socketPath.c_str(), &st) == 0 && st.st_dev == unixDev_ &&
        st.st_ino == unixIno_) {
      (void)::unlink(settings_.socketPath.c_str());
    }
  }
  closeFd(unixFd_);
  closeFd(tcpFd_);
}

std::string MetricsServer::render() {
  bool readable = false;
  if (proc_.isOpen()) readable = proc_.read(lines_).ok();
  std::vector<QueueMetricsView> views(sources_.size());
  for (size_t i = 0; i < sources_.size(); ++i) {
    const MetricsSource& src = sources_[i];
    QueueMetricsView& v = views[i];
    v.queue = src.queue;
    v.stats = src.stats;
    v.metrics = src.metrics;
    if (src.snapshot != nullptr) v.engine = src.snapshot->read();
    if (!readable) continue;
    const auto line = std::find_if(lines_.begin(), lines_.end(),
                                   [&](const auto& l) { return l.queueNum == src.queue; });
    if (line == lines_.end()) continue;
    KernelState& k = kernel_[i];
    // Widened: the first reading counts as it is (the queue was bound by this process).
    k.queueDroppedTotal +=
        k.seen ? kernel::counterDelta(k.queueDropped, line->queueDropped) : line->queueDropped;
    k.userDroppedTotal +=
        k.seen ? kernel::counterDelta(k.userDropped, line->userDropped) : line->userDropped;
    k.seen = true;
    k.queueDropped = line->queueDropped;
    k.userDropped = line->userDropped;
    v.kernel = {true, k.queueDroppedTotal, k.userDroppedTotal, line->queueTotal};
  }
  return renderMetrics(views, readable);
}

void MetricsServer::writeTextfile() {
  const std::string& path = settings_.textfile;
  const std::string tmp = path + ".tmp";
  const std::string body = render();
  // 0644: node_exporter runs as another user (the unit's UMask=0077 would make it 0600).
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  bool ok = fd >= 0 && ::fchmod(fd, 0644) == 0;
  for (size_t off = 0; ok && off < body.size();) {
    const ssize_t n = ::write(fd, body.data() + off, body.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  const int err = errno;
  closeFd(fd);
  ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    if (!textfileFailing_) {
      logf(LogLevel::Warning, "metrics textfile {}: {}", path, errnoText(err != 0 ? err : errno));
    }
    (void)::unlink(tmp.c_str());
  }
  textfileFailing_ = !ok;
}

void MetricsServer::acceptFrom(int listenFd, uint64_t nowNs) {
  while (conns_.size() < kMaxConnections) {
    const int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a connection gone before it was taken
    conns_.push_back(Conn{fd, {}, {}, 0, nowNs + settings_.connectionDeadlineNs});
  }
}

void MetricsServer::readFrom(Conn& c) {
  char buf[1024];
  while (c.out.empty()) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {  // closed before a whole request, or an error
      closeFd(c.fd);
      return;
    }
    c.in.append(buf, static_cast<size_t>(n));
    if (headEnd(c.in) != std::string::npos) {
      c.out = respond(c.in, requestLine(c.in).first == "GET" ? render() : std::string());
    } else if (c.in.size() > kMaxRequestBytes) {
      c.out = response("431 Request Header Fields Too Large", "text/plain; charset=utf-8",
                       "request too large\n", true);
    }
  }
}

void MetricsServer::writeTo(Conn& c) {
  while (c.sent < c.out.size()) {
    const ssize_t n =
        ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) break;
    c.sent += static_cast<size_t>(n);
  }
  closeFd(c.fd);  // all sent, or the peer is gone
}

void MetricsServer::run() {
  uint64_t nextTextfile = monotonicNs();
  std::vector<pollfd> fds;
  while (true) {
    const uint64_t now = monotonicNs();
    if (!settings_.textfile.empty() && now >= nextTextfile) {
      writeTextfile();
      nextTextfile = now + settings_.textfileIntervalNs;
    }
    std::erase_if(conns_, [&](Conn& c) {
      if (c.fd >= 0 && now >= c.deadlineNs) closeFd(c.fd);  // slow or silent scraper
      return c.fd < 0;
    });
    fds.clear();
    fds.push_back({wakeFd_, POLLIN, 0});
    // A full connection table stops accepting (the listen backlog holds the rest).
    const bool room = conns_.size() < kMaxConnections;
    fds.push_back({room ? unixFd_ : -1, POLLIN, 0});
    fds.push_back({room ? tcpFd_ : -1, POLLIN, 0});
    for (const Conn& c : conns_) {
      fds.push_back({c.fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
    }
    uint64_t waitNs = 1'000'000'000;
    for (const Conn& c : conns_)
      waitNs = std::min(waitNs, c.deadlineNs - std::min(c.deadlineNs, now));
    const int ms = static_cast<int>(waitNs / 1'000'000) + 1;
    if (::poll(fds.data(), fds.size(), ms) < 0 && errno != EINTR) {
      logf(LogLevel::Warning, "metrics: poll: {}; the endpoint stops", errnoText(errno));
      return;
    }
    if (fds[0].revents != 0) return;  // stop()
    const uint64_t after = monotonicNs();
    for (size_t i = 0; i < conns_.size(); ++i) {
      Conn& c = conns_[i];
      const short ev = fds[3 + i].revents;
      if (ev == 0) continue;
      if (c.out.empty()) readFrom(c);
      if (c.fd >= 0 && !c.out.empty()) writeTo(c);
    }
    if ((fds[1].revents & POLLIN) != 0) acceptFrom(unixFd_, after);
    if ((fds[2].revents & POLLIN) != 0) acceptFrom(tcpFd_, after);
  }
}

}  // namespace ftpalg::daemon
