#include "ftpalg/kernel/queue_stats_proc.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>

#include "ftpalg/core/number.h"

namespace ftpalg::kernel {
namespace {

constexpr size_t kFields = 9;
// 64 queues of about 60 bytes each fit many times over; the file grows only with bound queues.
constexpr size_t kReadChunk = 16384;

}  // namespace

bool parseQueueStatsLine(std::string_view line, QueueProcStats& out) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::array<uint32_t, kFields> v{};
  size_t n = 0;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = line.find(' ', i);
    if (end == std::string_view::npos) end = line.size();
    if (n == kFields || !core::parseNumber<uint32_t>(line.substr(i, end - i), v[n], 0, UINT32_MAX))
      return false;
    ++n;
    i = end;
  }
  if (n != kFields || v[0] > UINT16_MAX) return false;
  out = QueueProcStats{static_cast<uint16_t>(v[0]), v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  return true;
}

std::vector<QueueProcStats> parseQueueStats(std::string_view text, size_t* badLines) {
  std::vector<QueueProcStats> out;
  size_t bad = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty()) continue;
    QueueProcStats s;
    if (parseQueueStatsLine(line, s)) {
      out.push_back(s);
    } else {
      ++bad;
    }
  }
  if (badLines != nullptr) *badLines = bad;
  return out;
}

QueueStatsFile::~QueueStatsFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status QueueStatsFile::open(const char* path) {
  fd_ = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return Status::error(errno, std::string("open ") + path);
  return {};
}

Status QueueStatsFile::read(std::vector<QueueProcStats>& out) {
  if (fd_ < 0) return Status::error(EBADF, "queue statistics file not open");
  // seq_file: reading from offset 0 again produces a fresh snapshot.
  if (::lseek(fd_, 0, SEEK_SET) < 0) return Status::error(errno, "rewind queue statistics");
  buf_.clear();
  std::array<char, kReadChunk> chunk{};
  for (;;) {
    const ssize_t n = ::read(fd_, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::error(errno, "read queue statistics");
    if (n == 0) break;
    buf_.insert(buf_.end(), chunk.begin(), chunk.begin() + n);
  }
  out = parseQueueStats(std::string_view(buf_.data(), buf_.size()));
  return {};
}

}  // namespace ftpalg::kernel
