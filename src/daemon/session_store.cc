#include "daemon/session_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace ftpalg::daemon {
namespace {

constexpr std::string_view kSuffix = ".snap";
constexpr std::string_view kTempSuffix = ".tmp";

bool endsWith(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

void appendHex(std::string& out, const core::IpAddr& a, uint16_t port) {
  for (size_t i = 0; i < a.size(); ++i) out += fmt::format("{:02x}", a.bytes[i]);
  out += fmt::format(".{:04x}", port);
}

// mkdir -p with mode 0700 for what it creates.
Status makeDirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string part = dir.substr(0, pos);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::error(errno, fmt::format("state_dir: create {}", part));
    }
  }
  return {};
}

// Writes all of `bytes` to `fd`.
bool writeAll(int fd, std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

SessionStore::SessionStore(std::string dir) : dir_(std::move(dir)) {}

SessionStore::~SessionStore() {
  if (fd_ >= 0) ::close(fd_);
}

Status SessionStore::open() {
  if (!enabled() || fd_ >= 0) return {};
  if (Status s = makeDirs(dir_); !s.ok()) return s;
  fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) return Status::error(errno, fmt::format("state_dir: open {}", dir_));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return Status::error(errno, fmt::format("state_dir: stat {}", dir_));
  // Snapshots name the peers of live sessions: nobody else reads them.
  if ((st.st_mode & 077) != 0 && ::fchmod(fd_, 0700) != 0) {
    return Status::error(errno, fmt::format("state_dir: chmod 0700 {}", dir_));
  }
  return {};
}

std::string SessionStore::fileName(const core::FlowKey& flow) {
  std::string out = flow.client.addr.family == core::Family::V6 ? "6-" : "4-";
  appendHex(out, flow.client.addr, flow.client.port);
  out += '-';
  appendHex(out, flow.server.addr, flow.server.port);
  out += kSuffix;
  return out;
}

Status SessionStore::store(const core::FlowKey& flow, std::span<const uint8_t> bytes) {
  if (!enabled()) return {};
  if (fd_ < 0) return Status::error(EBADF, "state_dir: not open");
  const std::string name = fileName(flow);
  const std::string temp = name + std::string(kTempSuffix);
  const int f = ::openat(fd_, temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (f < 0) return Status::error(errno, fmt::format("state_dir: create {}", temp));
  const bool ok = writeAll(f, bytes);
  const int err = errno;
  ::close(f);
  // No fsync: a process that dies leaves the page cache behind, and a kernel that dies takes
  // the conntrack entries (and so the sessions) with it.
  if (!ok) {
    (void)::unlinkat(fd_, temp.c_str(), 0);
    return Status::error(err == 0 ? EIO : err, fmt::format("state_dir: write {}", temp));
  }
  if (::renameat(fd_, temp.c_str(), fd_, name.c_str()) != 0) {
    const int e = errno;
    (void)::unlinkat(fd_, temp.c_str(), 0);
    return Status::error(e, fmt::format("state_dir: rename {}", name));
  }
  return {};
}

Status SessionStore::erase(const core::FlowKey& flow) {
  if (!enabled()) return {};
  return eraseName(fileName(flow));
}

Status SessionStore::eraseName(std::string_view name) {
  if (!enabled()) return {};
  const std::string n(name);
  if (::unlinkat(fd_, n.c_str(), 0) != 0 && errno != ENOENT) {
    return Status::error(errno, fmt::format("state_dir: remove {}", n));
  }
  return {};
}

Status SessionStore::forEach(
    const std::function<void(std::string_view, std::span<const uint8_t>)>& f) {
  if (!enabled()) return {};
  const int dfd = ::openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Status::error(errno, fmt::format("state_dir: read {}", dir_));
  DIR* d = ::fdopendir(dfd);
  if (d == nullptr) {
    ::close(dfd);
    return Status::error(errno, fmt::format("state_dir: read {}", dir_));
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view n = e->d_name;
    if (endsWith(n, kSuffix) || endsWith(n, kTempSuffix)) names.emplace_back(n);
  }
  ::closedir(d);
  std::vector<uint8_t> buf(core::kMaxSnapshotBytes + 1);
  for (const std::string& n : names) {
    if (endsWith(n, kTempSuffix)) {
      (void)eraseName(n);  // a write interrupted before its rename: the old snapshot stands
      continue;
    }
    const int fd = ::openat(fd_, n.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    size_t len = 0;
    ssize_t r = 0;
    while (len < buf.size() && (r = ::read(fd, buf.data() + len, buf.size() - len)) > 0) {
      len += static_cast<size_t>(r);
    }
    ::close(fd);
    f(n, std::span<const uint8_t>(buf.data(), len));
  }
  return {};
}

}  // namespace ftpalg::daemon
