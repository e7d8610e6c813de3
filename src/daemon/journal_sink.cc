#include "daemon/journal_sink.h"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>

#include "daemon/journal_fields.h"
#include "daemon/log.h"
#include "ftpalg/core/number.h"

namespace ftpalg::daemon {
namespace {

std::atomic<JournalSink*> gJournal{nullptr};

int sdSend(const JournalSink::Entry& e) {
  std::vector<iovec> iov(e.size());
  for (size_t i = 0; i < e.size(); ++i) {
    iov[i].iov_base = const_cast<char*>(e[i].data());  // NOLINT: sd_journal_sendv reads only
    iov[i].iov_len = e[i].size();
  }
  return sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

size_t bytesOf(const JournalSink::Entry& e) {
  size_t n = 0;
  for (const std::string& f : e) n += f.size() + 16;
  return n;
}

}  // namespace

bool streamIsJournal(const char* journalStream, int fd) {
  if (journalStream == nullptr) return false;
  const std::string_view s(journalStream);
  const size_t colon = s.find(':');
  uint64_t dev = 0;
  uint64_t ino = 0;
  if (colon == std::string_view::npos ||
      !core::parseNumber<uint64_t>(s.substr(0, colon), dev, 0, UINT64_MAX) ||
      !core::parseNumber<uint64_t>(s.substr(colon + 1), ino, 0, UINT64_MAX)) {
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

bool journalWanted(LogTarget target) {
  if (target == LogTarget::Journal) return true;
  if (target == LogTarget::Stderr) return false;
  return streamIsJournal(std::getenv("JOURNAL_STREAM"), 2);
}

JournalSink::JournalSink(size_t backlogBytes, SendFn send)
    : backlogBytes_(backlogBytes), send_(send ? std::move(send) : SendFn(sdSend)) {}

JournalSink::~JournalSink() { close(); }

void JournalSink::open() {
  if (enabled()) return;
  stop_ = false;
  enabled_.store(true);
  writer_ = std::thread([this] { run(); });
  write({daemonFields(EventClass::Lifecycle, "events go to the journal (FTPALG_* fields)")});
}

void JournalSink::write(std::vector<Entry>&& entries) {
  if (!enabled() || entries.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Entry& e : entries) {
      const size_t n = bytesOf(e);
      if (pendingBytes_ + n > backlogBytes_) {
        ++droppedUnreported_;
        ++droppedTotal_;
        continue;
      }
      pendingBytes_ += n;
      pending_.push_back(std::move(e));
    }
    ++queuedRounds_;
  }
  wake_.notify_one();
}

void JournalSink::sync() {
  if (!enabled()) return;
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = queuedRounds_;
  done_.wait(lock, [&] { return doneRounds_ >= target || !writer_.joinable(); });
}

uint64_t JournalSink::droppedEntries() {
  std::lock_guard<std::mutex> lock(mu_);
  return droppedTotal_;
}

void JournalSink::run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<Entry> sending;
  while (true) {
    wake_.wait(lock, [&] { return stop_ || doneRounds_ < queuedRounds_; });
    if (doneRounds_ >= queuedRounds_ && stop_) break;
    const uint64_t round = queuedRounds_;
    std::swap(pending_, sending);
    pendingBytes_ = 0;
    const uint64_t dropped = std::exchange(droppedUnreported_, 0);
    lock.unlock();
    if (dropped > 0) {
      sending.push_back(daemonFields(
          EventClass::Limit, std::to_string(dropped) + " journal entries dropped (backlog full)"));
    }
    for (const Entry& e : sending) {
      const int rc = send_(e);
      // One line about the first failure; a gone journal must not turn into a log flood.
      if (rc < 0 && failures_++ == 0) {
        logf(LogLevel::Error, "sending events to the journal: {}", std::strerror(-rc));
      }
    }
    sending.clear();
    lock.lock();
    doneRounds_ = round;
    done_.notify_all();
  }
}

void JournalSink::close() {
  if (!enabled()) return;
  write({daemonFields(EventClass::Lifecycle, "events stop going to the journal")});
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  enabled_.store(false);
}

JournalSink* eventJournal() { return gJournal.load(std::memory_order_acquire); }
void setEventJournal(JournalSink* sink) { gJournal.store(sink, std::memory_order_release); }

void startEventJournal(LogTarget target, JournalSink& sink) {
  if (!journalWanted(target)) return;
  sink.open();
  setEventJournal(&sink);
  logf(LogLevel::Info, "events go to the journal as entries with FTPALG_* fields (log_target {})",
       logTargetName(target));
}

}  // namespace ftpalg::daemon
