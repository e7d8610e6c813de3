#include "daemon/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace ftpalg::daemon {
namespace {

std::atomic<LogLevel> gLevel{LogLevel::Info};

// sd-daemon(3) priority prefixes, only when stderr is connected to the journal.
const bool gJournal = std::getenv("JOURNAL_STREAM") != nullptr;

std::string_view prefix(LogLevel level) {
  switch (level) {
    case LogLevel::Error:
      return "<3>";
    case LogLevel::Warning:
      return "<4>";
    case LogLevel::Info:
      return "<6>";
    case LogLevel::Debug:
      return "<7>";
  }
  return "";
}

}  // namespace

void setLogLevel(LogLevel level) { gLevel.store(level, std::memory_order_relaxed); }

bool logEnabled(LogLevel level) { return level <= gLevel.load(std::memory_order_relaxed); }

void logLine(LogLevel level, std::string_view message) {
  if (!logEnabled(level)) return;
  std::string line;
  line.reserve(message.size() + 32);
  if (gJournal) line += prefix(level);
  line += "ftpalgd: ";
  line += logLevelName(level);
  line += ": ";
  line += message;
  line += '\n';
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) return;  // stderr gone: nothing better to do with a log line
    off += static_cast<size_t>(n);
  }
}

bool RateLimit::allow(uint64_t nowNs, uint64_t& suppressed) {
  if (nowNs - windowStart_ >= intervalNs_ || windowStart_ == 0) {
    windowStart_ = nowNs;
    used_ = 0;
  }
  if (used_ >= burst_) {
    ++suppressed_;
    return false;
  }
  ++used_;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

}  // namespace ftpalg::daemon
