#include "daemon/event_sink.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "daemon/log.h"

namespace ftpalg::daemon {

EventSink::~EventSink() { close(); }

Status EventSink::open(const std::string& path) {
  if (path.empty()) return {};
  file_ = path == "-" ? stdout : std::fopen(path.c_str(), "a");
  if (file_ == nullptr) {
    return Status::error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  }
  return {};
}

void EventSink::write(std::string_view lines) {
  if (file_ == nullptr || lines.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  const bool ok =
      std::fwrite(lines.data(), 1, lines.size(), file_) == lines.size() && std::fflush(file_) == 0;
  // One line about the first failure; a full disk must not turn into a log flood.
  if (!ok && failures_++ == 0) {
    logf(LogLevel::Error, "writing events: {}", std::strerror(errno));
  }
}

void EventSink::close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return;
  std::fflush(file_);
  if (file_ != stdout) std::fclose(file_);
  file_ = nullptr;
}

}  // namespace ftpalg::daemon
