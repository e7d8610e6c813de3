#include "cli/status_cmd.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

namespace ftpalg::cli {
namespace {

using Json = nlohmann::ordered_json;  // members in the daemon's order
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxResponseBytes = 64u << 20;  // 1000 sessions per queue fit many times

int msLeft(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(left > 0 ? left : 0);
}

Status connectError(const std::string& path, int err) {
  if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR) {
    return Status::error(fmt::format("ftpalgd not running or control socket at {} absent ({})",
                                     path, std::strerror(err)));
  }
  if (err == EACCES || err == EPERM) {
    return Status::error(fmt::format(
        "permission denied on {}: root or a member of ftpalgd's control_group only", path));
  }
  return Status::error(fmt::format("connecting to {}: {}", path, std::strerror(err)));
}

// Waits for `events` on fd until `deadline`.
bool ready(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, msLeft(deadline)) > 0;
}

Status exchange(int fd, const std::string& path, const std::string& request,
                Clock::time_point deadline, std::string& out) {
  std::string_view rest = request;
  while (!rest.empty()) {
    if (!ready(fd, POLLOUT, deadline)) return Status::error("timed out sending to " + path);
    const ssize_t n = send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    // A daemon that refuses the peer answers before reading and closes: read its answer.
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) break;
    if (n < 0) return Status::error(errno, "sending to " + path);
    rest.remove_prefix(static_cast<size_t>(n));
  }
  char buf[65536];
  while (true) {
    if (!ready(fd, POLLIN, deadline)) {
      return Status::error(fmt::format("no answer from ftpalgd on {} in time", path));
    }
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) return Status::error(errno, "reading from " + path);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxResponseBytes) return Status::error("response too large");
  }
  if (out.empty()) return Status::error(fmt::format("ftpalgd closed {} without answer", path));
  return {};
}

// "c2s/s2c" of one member of both directions.
std::string side(const Json& s, const char* key) {
  return fmt::format("{}/{}", s.at("c2s").at(key).dump(), s.at("s2c").at(key).dump());
}

std::string offsetText(int64_t d) { return fmt::format("{:+d}", d); }

std::string announcementText(const Json& a) {
  const Json& port = a.at("src_port");
  std::string text = fmt::format("[{} {} {}:{}->{} nat_to={}", a.at("dir").get<std::string>(),
                                 a.at("admit").get<std::string>(), a.at("src").get<std::string>(),
                                 port.is_string() ? port.get<std::string>() : port.dump(),
                                 a.at("dst").get<std::string>(), a.at("nat_to").get<std::string>());
  if (a.contains("src_nat_to")) text += " src_nat_to=" + a.at("src_nat_to").get<std::string>();
  if (a.at("awaiting_reply").get<bool>()) text += " awaiting_reply";
  return text + fmt::format(" expires={}s]", a.at("expires_in_s").dump());
}

std::string sessionLine(const Json& s, uint64_t queue) {
  const Json& nat = s.at("nat");
  std::string line = fmt::format(
      "ftp q{} {} -> {} {} login={} mode={} nat={}->{}/{}->{} bytes={} rewrites={} "
      "offset={}/{} splices={} idle={}s expires={}s announcements={}",
      queue, s.at("client").get<std::string>(), s.at("server").get<std::string>(),
      s.at("state").get<std::string>(), s.at("login").get<std::string>(),
      s.at("kernel_mode").get<std::string>(), nat.at("client_inside").get<std::string>(),
      nat.at("client_outside").get<std::string>(), nat.at("server_inside").get<std::string>(),
      nat.at("server_outside").get<std::string>(), side(s, "bytes"), s.at("rewrites").dump(),
      offsetText(s.at("c2s").at("offset").get<int64_t>()),
      offsetText(s.at("s2c").at("offset").get<int64_t>()), side(s, "live_splices"),
      s.at("idle_s").dump(), s.at("expires_in_s").dump(), s.at("announcements_total").dump());
  for (const Json& a : s.at("announcements")) line += " " + announcementText(a);
  return line + "\n";
}

// "name=N ..." of the object's non-zero members.
std::string nonZero(const Json& counters) {
  std::string text;
  for (const auto& [name, value] : counters.items()) {
    if (value.is_number() && value.get<double>() != 0) {
      text += fmt::format("{}{}={}", text.empty() ? "" : " ", name, value.dump());
    }
  }
  return text.empty() ? "all zero" : text;
}

std::string queueLines(const Json& q) {
  std::string text = fmt::format("queue {}: {}", q.at("queue").dump(), nonZero(q.at("load")));
  if (!q.at("answered").get<bool>()) text += " NOT ANSWERING: " + q.at("error").get<std::string>();
  text += "\n";
  for (const auto& [group, counters] : q.at("counters").items()) {
    text += fmt::format("  counters {}: {}\n", group, nonZero(counters));
  }
  return text;
}

Status parsed(const std::string& response, Json& out) {
  out = Json::parse(response, nullptr, false);
  if (out.is_discarded() || !out.is_object()) return Status::error("ftpalgd answered no JSON");
  if (out.contains("error")) {
    const Json& e = out.at("error");
    const std::string code = e.value("code", "");
    if (code == "forbidden") {
      return Status::error("permission denied: root or a member of ftpalgd's control_group only");
    }
    return Status::error(fmt::format("ftpalgd: {} ({})", e.value("message", ""), code));
  }
  return {};
}

bool allAnswered(const std::string& response) {
  const Json j = Json::parse(response, nullptr, false);
  if (j.is_discarded() || !j.contains("queues")) return true;
  for (const Json& q : j.at("queues")) {
    if (!q.value("answered", true)) return false;
  }
  return true;
}

}  // namespace

Status queryControl(const std::string& path, const std::string& request, uint32_t timeoutMs,
                    std::string& out) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Status::error(fmt::format("control socket path '{}' is empty or too long", path));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::error(errno, "socket");
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    const int err = errno;
    close(fd);
    return connectError(path, err);
  }
  const Status s =
      exchange(fd, path, request + "\n", Clock::now() + std::chrono::milliseconds(timeoutMs), out);
  close(fd);
  return s;
}

Status renderStatus(const std::string& response, std::string& out) {
  Json j;
  try {
    if (Status s = parsed(response, j); !s.ok()) return s;
    const Json& d = j.at("daemon");
    out += fmt::format("ftpalgd pid {}, kernel mode {}, up {}s\n", d.at("pid").dump(),
                       d.at("kernel_mode").get<std::string>(), d.at("uptime_s").dump());
    uint64_t total = 0;
    std::string queues;
    for (const Json& q : j.at("queues")) {
      queues += queueLines(q);
      if (!q.contains("sessions")) continue;
      total += q.at("sessions_total").get<uint64_t>();
      for (const Json& s : q.at("sessions")) out += sessionLine(s, q.at("queue").get<uint64_t>());
    }
    out +=
        fmt::format("{} sessions (bytes, offset, splices: client->server/server->client)\n", total);
    out += queues;
  } catch (const Json::exception& e) {
    return Status::error(fmt::format("unexpected status JSON: {}", e.what()));
  }
  return {};
}

Status renderSession(const std::string& response, std::string& out) {
  Json j;
  try {
    if (Status s = parsed(response, j); !s.ok()) return s;
    if (!j.at("found").get<bool>() && j.at("queues").empty()) {
      return Status::error(
          fmt::format("no session {} and no recent events of it", j.at("flow").get<std::string>()));
    }
    for (const Json& q : j.at("queues")) {
      const uint64_t queue = q.at("queue").get<uint64_t>();
      if (!q.at("answered").get<bool>()) {
        out += fmt::format("queue {} NOT ANSWERING: {}\n", queue, q.at("error").get<std::string>());
        continue;
      }
      const Json& s = q.at("session");
      out += s.is_null() ? fmt::format("{} (ended)\n", j.at("flow").get<std::string>())
                         : sessionLine(s, queue);
      out += fmt::format("recent events ({} older dropped):\n", q.at("events_dropped").dump());
      for (const Json& ev : q.at("events")) out += "  " + ev.dump() + "\n";
    }
  } catch (const Json::exception& e) {
    return Status::error(fmt::format("unexpected session JSON: {}", e.what()));
  }
  return {};
}

int runStatus(const StatusOptions& o) {
  const std::string request = o.session.empty() ? "status" : "session " + o.session;
  const bool tty = isatty(STDOUT_FILENO) == 1;
  int rc = 0;
  for (uint32_t round = 0; o.watchS == 0 ? round < 1 : (o.count == 0 || round < o.count); ++round) {
    if (round > 0) std::this_thread::sleep_for(std::chrono::seconds(o.watchS));
    std::string response;
    std::string text;
    Status s = queryControl(o.socket, request, o.timeoutMs, response);
    if (s.ok() && !o.json)
      s = o.session.empty() ? renderStatus(response, text) : renderSession(response, text);
    if (!s.ok()) {
      std::fputs(fmt::format("ftpalg: error: {}\n", s.message()).c_str(), stderr);
      if (o.watchS == 0) return 2;
      rc = 2;
      continue;
    }
    if (o.json) text = response;  // one JSON document per line
    if (o.watchS != 0 && tty) std::fputs("\x1b[H\x1b[2J", stdout);
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    rc = allAnswered(response) ? 0 : 1;
    if (rc == 1) std::fputs("ftpalg: warning: a queue did not answer in time\n", stderr);
  }
  return rc;
}

}  // namespace ftpalg::cli
