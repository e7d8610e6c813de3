// Where ftpalgd writes events: JSON lines (the schema of `ftpalg replay --events`, written by
// report::appendEventJson) to a file or stdout. Shared by the queue threads: each hands over the
// lines of one receive batch at once, and a writer thread of the sink's own does the I/O
// (fwrite, fflush), so a slow disk never stalls a packet. Lines that find the backlog full are
// dropped and reported by one "suppressed" line. reopen() (SIGHUP, after logrotate moved the
// file) makes the writer close the file and open its path again.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "daemon/config.h"

namespace ftpalg::daemon {

class EventSink {
 public:
  // Bytes of lines waiting for the writer, at most.
  static constexpr size_t kDefaultBacklogBytes = size_t{4} << 20;

  explicit EventSink(size_t backlogBytes = kDefaultBacklogBytes) : backlogBytes_(backlogBytes) {}
  ~EventSink();
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  // "-" is stdout; empty means no events. A file is appended to. Starts the writer.
  Status open(const std::string& path);
  [[nodiscard]] bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  // Queues whole lines for the writer; never waits for I/O. Without room in the backlog the
  // lines are dropped (counted, reported by the writer).
  void write(std::string_view lines);
  // Asks the writer to reopen the file at its path (stdout: nothing to do).
  void reopen();
  // Waits until the writer has written (and flushed) everything queued before the call.
  void sync();
  // Writes what is queued, stops the writer, closes the file.
  void close();

  // Lines dropped for want of room in the backlog, since open().
  [[nodiscard]] uint64_t droppedLines();

 private:
  void run();
  // Under mu_: the writer's "suppressed" line for `dropped` lines.
  static void appendSuppressed(std::string& out, uint64_t dropped);
  void reopenFile();
  // Writer thread: writes and flushes `lines`; false on failure.
  bool writeOut(std::string_view lines);

  const size_t backlogBytes_;
  std::string path_;
  std::atomic<bool> enabled_{false};  // between open() and close()
  FILE* file_ = nullptr;              // set by open(), then used by the writer only until close()
  std::thread writer_;
  std::mutex mu_;
  std::condition_variable wake_;  // work for the writer
  std::condition_variable done_;  // the writer finished a round
  std::string pending_;           // queued lines (producers append under mu_)
  std::string writing_;           // the writer's current round (swapped with pending_)
  uint64_t queuedRounds_ = 0;     // rounds asked for (a write or reopen since the last round)
  uint64_t doneRounds_ = 0;
  uint64_t droppedUnreported_ = 0;
  uint64_t droppedTotal_ = 0;
  bool reopen_ = false;
  size_t reopenAt_ = 0;  // offset in pending_ of the last reopen()
  bool stop_ = false;
  uint64_t failures_ = 0;
};

}  // namespace ftpalg::daemon
