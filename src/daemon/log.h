// ftpalgd logging: one line per message on stderr, with a level. Under systemd (JOURNAL_STREAM
// set) each line starts with the sd-daemon priority prefix ("<4>") so journald keeps the level.
// Thread-safe: each line is written with one write(2).
//
// Per-packet anomalies go through a RateLimit owned by the caller (one per log site and thread),
// so a flood of bad packets costs a counter, not a line each.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string_view>

#include "daemon/config.h"

namespace ftpalg::daemon {

void setLogLevel(LogLevel level);
[[nodiscard]] bool logEnabled(LogLevel level);
// Writes "ftpalgd: <level>: <message>\n" when `level` is enabled.
void logLine(LogLevel level, std::string_view message);

template <typename... Args>
void logf(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
  if (!logEnabled(level)) return;
  logLine(level, fmt::format(f, std::forward<Args>(args)...));
}

// At most `burst` messages per `intervalNs`; the others are counted, and the first message of
// the next interval says how many were suppressed.
class RateLimit {
 public:
  explicit RateLimit(uint32_t burst = 10, uint64_t intervalNs = 10'000'000'000)
      : burst_(burst), intervalNs_(intervalNs) {}
  // True when a message may be written now. `suppressed` receives the count of messages
  // dropped since the last allowed one (to be mentioned in it).
  bool allow(uint64_t nowNs, uint64_t& suppressed);

 private:
  uint32_t burst_;
  uint64_t intervalNs_;
  uint64_t windowStart_ = 0;
  uint32_t used_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace ftpalg::daemon
