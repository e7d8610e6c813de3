// Where ftpalgd writes events: JSON lines (the schema of `ftpalg replay --events`, written by
// report::appendEventJson) to a file or stdout. Shared by the queue threads: each hands over the
// lines of one receive batch at once.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "daemon/config.h"

namespace ftpalg::daemon {

class EventSink {
 public:
  EventSink() = default;
  ~EventSink();
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  // "-" is stdout; empty means no events. A file is appended to.
  Status open(const std::string& path);
  [[nodiscard]] bool enabled() const { return file_ != nullptr; }
  // Writes whole lines and flushes (a reader such as `tail -f` or a test sees them at once).
  void write(std::string_view lines);
  void close();

 private:
  std::mutex mu_;
  FILE* file_ = nullptr;
  uint64_t failures_ = 0;
};

}  // namespace ftpalg::daemon
