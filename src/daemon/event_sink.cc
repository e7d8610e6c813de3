#include "daemon/event_sink.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "daemon/clock.h"
#include "daemon/log.h"

namespace ftpalg::daemon {
namespace {

// Appends to `path`, creating it 0640 (events name clients and servers: not world-readable;
// readable by the daemon's group, e.g. adm-style log readers) whatever the umask (the unit's
// UMask=0077 would make it 0600). An existing file keeps the mode the admin gave it.
std::FILE* openAppend(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd >= 0) {
    (void)::fchmod(fd, 0640);
  } else if (errno == EEXIST) {
    fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  if (fd < 0) return nullptr;
  std::FILE* f = fdopen(fd, "a");
  if (f == nullptr) ::close(fd);
  return f;
}

}  // namespace

EventSink::~EventSink() { close(); }

Status EventSink::open(const std::string& path) {
  if (path.empty()) return {};
  file_ = path == "-" ? stdout : openAppend(path);
  if (file_ == nullptr) {
    return Status::error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  path_ = path;
  enabled_.store(true);
  pending_.reserve(std::min<size_t>(backlogBytes_, size_t{64} << 10));
  stop_ = false;
  writer_ = std::thread([this] { run(); });
  return {};
}

void EventSink::write(std::string_view lines) {
  if (!enabled() || lines.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.size() + lines.size() > backlogBytes_) {
      const auto n = static_cast<uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
      droppedUnreported_ += n;
      droppedTotal_ += n;
    } else {
      pending_.append(lines);
    }
    ++queuedRounds_;
  }
  wake_.notify_one();
}

void EventSink::reopen() {
  if (!enabled()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reopen_ = true;
    reopenAt_ = pending_.size();  // what was queued before goes to the old file
    ++queuedRounds_;
  }
  wake_.notify_one();
}

void EventSink::sync() {
  if (!enabled()) return;
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = queuedRounds_;
  done_.wait(lock, [&] { return doneRounds_ >= target || !writer_.joinable(); });
}

uint64_t EventSink::droppedLines() {
  std::lock_guard<std::mutex> lock(mu_);
  return droppedTotal_;
}

void EventSink::appendSuppressed(std::string& out, uint64_t dropped) {
  const uint64_t us = clockNs(CLOCK_REALTIME) / 1000;
  out += fmt::format(
      "{{\"ts\":{}.{:06},\"kind\":\"suppressed\",\"count\":{},\"why\":\"events_backlog_full\"}}\n",
      us / 1'000'000, us % 1'000'000, dropped);
}

void EventSink::reopenFile() {
  if (file_ == stdout) return;
  if (file_ != nullptr) std::fclose(file_);
  file_ = openAppend(path_);
  if (file_ == nullptr) {
    // Events are lost until the next SIGHUP finds the path writable again.
    logf(LogLevel::Error, "reopening events file {}: {}", path_, std::strerror(errno));
  } else {
    logf(LogLevel::Info, "events file {} reopened", path_);
  }
}

bool EventSink::writeOut(std::string_view lines) {
  if (lines.empty()) return true;
  return file_ != nullptr && std::fwrite(lines.data(), 1, lines.size(), file_) == lines.size() &&
         std::fflush(file_) == 0;
}

void EventSink::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || doneRounds_ < queuedRounds_; });
    if (doneRounds_ >= queuedRounds_ && stop_) break;
    const uint64_t round = queuedRounds_;
    std::swap(pending_, writing_);
    const bool reopen = std::exchange(reopen_, false);
    const size_t split = reopen ? std::min(reopenAt_, writing_.size()) : writing_.size();
    const uint64_t dropped = std::exchange(droppedUnreported_, 0);
    if (dropped > 0) appendSuppressed(writing_, dropped);
    lock.unlock();
    const std::string_view all(writing_);
    bool ok = writeOut(all.substr(0, split));
    if (reopen) reopenFile();
    ok = writeOut(all.substr(split)) && ok;
    // One line about the first failure; a full disk must not turn into a log flood.
    if (!ok && failures_++ == 0) {
      logf(LogLevel::Error, "writing events: {}", std::strerror(errno));
    }
    writing_.clear();
    lock.lock();
    doneRounds_ = round;
    done_.notify_all();
  }
}

void EventSink::close() {
  if (!enabled()) return;
  if (writer_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    writer_.join();
  }
  if (file_ != nullptr) {
    std::fflush(file_);
    if (file_ != stdout) std::fclose(file_);
  }
  file_ = nullptr;
  enabled_.store(false);
}

}  // namespace ftpalg::daemon
