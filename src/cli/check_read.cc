#include "cli/check_read.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ftpalg::cli {
namespace {

constexpr const char* kQueueProc = "/proc/net/netfilter/nfnetlink_queue";
constexpr uint32_t kNetlinkNetfilter = 12;

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

uint64_t readNumber(const std::string& path) {
  std::string text;
  uint64_t v = 0;
  if (readFile(path, text)) std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

bool allDigits(const char* s) {
  if (*s == '\0') return false;
  for (; *s != '\0'; ++s) {
    if (*s < '0' || *s > '9') return false;
  }
  return true;
}

// The pid whose descriptor table holds socket inode `inode`; 0 when none is visible.
int socketOwner(uint64_t inode) {
  const std::string want = "socket:[" + std::to_string(inode) + "]";
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  int found = 0;
  while (dirent* p = readdir(proc)) {
    if (!allDigits(p->d_name)) continue;
    const std::string fdDir = std::string("/proc/") + p->d_name + "/fd";
    DIR* fds = opendir(fdDir.c_str());
    if (fds == nullptr) continue;
    while (dirent* fd = readdir(fds)) {
      char target[64] = {};
      const std::string link = fdDir + "/" + fd->d_name;
      const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
      if (n > 0 && want == std::string_view(target, static_cast<size_t>(n))) {
        found = std::atoi(p->d_name);
        break;
      }
    }
    closedir(fds);
    if (found != 0) break;
  }
  closedir(proc);
  return found;
}

std::string commOf(int pid) {
  std::string comm;
  if (!readFile("/proc/" + std::to_string(pid) + "/comm", comm)) return {};
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

std::string netnsOf(const std::string& pid) {
  char target[64] = {};
  const std::string link = "/proc/" + pid + "/ns/net";
  const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string();
}

// Processes called `name` in this network namespace (daemons of other namespaces serve other
// gateways).
std::vector<int> processesNamed(std::string_view name) {
  std::vector<int> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  const std::string self = netnsOf("self");
  while (dirent* p = readdir(proc)) {
    if (allDigits(p->d_name) && commOf(std::atoi(p->d_name)) == name &&
        netnsOf(p->d_name) == self) {
      out.push_back(std::atoi(p->d_name));
    }
  }
  closedir(proc);
  return out;
}

}  // namespace

Status readSample(const CheckSettings& settings, GatewaySample& out) {
  GatewaySample s;
  if (Status st = kernel::readRuleset(s.ruleset); !st.ok()) return st;
  std::string text;
  if (readFile(kQueueProc, text)) s.queues = kernel::parseQueueStats(text);
  s.connsRead = kernel::dumpControlConns(settings.ports, s.conns).ok();
  out = std::move(s);
  return {};
}

ConntrackSettings readConntrackSettings() {
  ConntrackSettings c;
  struct stat st {};
  c.present = ::stat("/proc/sys/net/netfilter/nf_conntrack_max", &st) == 0;
  if (c.present) {
    c.max = readNumber("/proc/sys/net/netfilter/nf_conntrack_max");
    c.count = readNumber("/proc/sys/net/netfilter/nf_conntrack_count");
  }
  return c;
}

DaemonFacts readDaemon(const std::vector<kernel::QueueProcStats>& queues,
                       const std::string& controlSocket) {
  DaemonFacts d;
  std::string netlink;
  readFile("/proc/net/netlink", netlink);
  for (const auto& q : queues) {
    QueueOwner o{q.queueNum, q.portId, 0, {}};
    if (const uint64_t inode = netlinkInode(netlink, q.portId); inode != 0) {
      o.pid = socketOwner(inode);
      if (o.pid != 0) o.comm = commOf(o.pid);
    }
    d.owners.push_back(std::move(o));
  }
  d.ftpalgdPids = processesNamed("ftpalgd");
  d.controlSocket = controlSocket;
  struct stat st {};
  d.controlSocketExists = !controlSocket.empty() && ::stat(controlSocket.c_str(), &st) == 0;
  if (d.controlSocketExists) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (controlSocket.size() < sizeof addr.sun_path) {
      std::memcpy(addr.sun_path, controlSocket.c_str(), controlSocket.size() + 1);
      const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0 && ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        d.controlSocketAccepts = true;
      } else {
        d.controlSocketError = std::strerror(errno);
      }
      if (fd >= 0) ::close(fd);
    } else {
      d.controlSocketError = "path too long";
    }
  }
  return d;
}

EventFacts readEvents(const std::string& path, size_t tailBytes) {
  EventFacts e;
  e.path = path;
  if (path.empty()) return e;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) {
    e.error = std::strerror(errno);
    return e;
  }
  const auto size = static_cast<size_t>(in.tellg());
  const size_t start = size > tailBytes ? size - tailBytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string text(size - start, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (start > 0) {  // skip the partial first line
    const size_t nl = text.find('\n');
    text.erase(0, nl == std::string::npos ? text.size() : nl + 1);
  }
  e.readable = true;
  e.refusals = parseRefusals(text);
  return e;
}

uint64_t netlinkInode(std::string_view text, uint32_t portId) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::istringstream line{std::string(text.substr(pos, nl - pos))};
    pos = nl + 1;
    std::string sk, groups, rmem, wmem, dump, locks, drops;
    uint64_t eth = 0, pid = 0, inode = 0;
    if (line >> sk >> eth >> pid >> groups >> rmem >> wmem >> dump >> locks >> drops >> inode &&
        eth == kNetlinkNetfilter && pid == portId) {
      return inode;
    }
  }
  return 0;
}

std::string jsonField(std::string_view line, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":\"";
  const size_t at = line.find(needle);
  if (at == std::string_view::npos) return {};
  std::string out;
  for (size_t i = at + needle.size(); i < line.size(); ++i) {
    if (line[i] == '"') return out;
    if (line[i] == '\\' && i + 1 < line.size()) ++i;
    out += line[i];
  }
  return {};
}

std::vector<RefusalEvent> parseRefusals(std::string_view text) {
  std::vector<RefusalEvent> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (jsonField(line, "verdict") != "refuse") continue;
    out.push_back({jsonField(line, "flow"), jsonField(line, "dir"), jsonField(line, "kind"),
                   jsonField(line, "reason"), jsonField(line, "announced")});
  }
  return out;
}

std::string configString(std::string_view toml, std::string_view key) {
  size_t pos = 0;
  while (pos < toml.size()) {
    size_t nl = toml.find('\n', pos);
    if (nl == std::string_view::npos) nl = toml.size();
    std::string_view line = toml.substr(pos, nl - pos);
    pos = nl + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.starts_with('[')) return {};  // tables follow: top-level keys only
    if (!line.starts_with(key)) continue;
    line.remove_prefix(key.size());
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.starts_with('=')) continue;
    const size_t open = line.find('"');
    const size_t close = open == std::string_view::npos ? open : line.find('"', open + 1);
    if (close == std::string_view::npos) return {};
    return std::string(line.substr(open + 1, close - open - 1));
  }
  return {};
}

}  // namespace ftpalg::cli
