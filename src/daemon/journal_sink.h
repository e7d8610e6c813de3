// Events as structured journal entries (sd_journal_sendv), sent by a writer thread of the
// sink's own, so a slow or stalled journald (its datagram socket blocks when full) never stalls
// a packet. Queue workers hand over the entries of one receive batch at once; entries that find
// the backlog full are dropped and reported by one Limit entry. One sink per process, set by
// main() before the workers start (eventJournal()).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/config.h"

namespace ftpalg::daemon {

// True when stderr is the journal's stream: $JOURNAL_STREAM ("<dev>:<inode>", set by systemd
// for StandardError=journal) names the file `fd` is.
bool streamIsJournal(const char* journalStream, int fd);
// Whether events go to the journal: Journal always, Auto when stderr is the journal's stream.
bool journalWanted(LogTarget target);

class JournalSink {
 public:
  using Entry = std::vector<std::string>;  // "NAME=value" fields
  // Sends one entry; 0 or a negative errno (sd_journal_sendv's contract).
  using SendFn = std::function<int(const Entry&)>;
  static constexpr size_t kDefaultBacklogBytes = size_t{4} << 20;

  explicit JournalSink(size_t backlogBytes = kDefaultBacklogBytes, SendFn send = {});
  ~JournalSink();
  JournalSink(const JournalSink&) = delete;
  JournalSink& operator=(const JournalSink&) = delete;

  // Starts the writer.
  void open();
  [[nodiscard]] bool enabled() const { return enabled_.load(std::memory_order_relaxed); }
  // Queues entries for the writer; never waits for the journal.
  void write(std::vector<Entry>&& entries);
  // Waits until everything queued before the call was sent.
  void sync();
  // Sends what is queued, stops the writer.
  void close();
  // Entries dropped for want of room in the backlog, since open().
  [[nodiscard]] uint64_t droppedEntries();

 private:
  void run();

  const size_t backlogBytes_;
  SendFn send_;
  std::atomic<bool> enabled_{false};
  std::thread writer_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<Entry> pending_;
  size_t pendingBytes_ = 0;
  uint64_t queuedRounds_ = 0;
  uint64_t doneRounds_ = 0;
  uint64_t droppedUnreported_ = 0;
  uint64_t droppedTotal_ = 0;
  uint64_t failures_ = 0;
  bool stop_ = false;
};

// The process's journal sink for events; nullptr when events do not go to the journal.
JournalSink* eventJournal();
void setEventJournal(JournalSink* sink);
// Opens `sink` and makes it the event journal when `target` asks for it (journalWanted).
void startEventJournal(LogTarget target, JournalSink& sink);

}  // namespace ftpalg::daemon
