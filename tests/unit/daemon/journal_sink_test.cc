// The journal sink: entries leave through its writer thread in order, a full backlog drops and
// says so in one Limit entry, $JOURNAL_STREAM detection compares stderr's device and inode, and
// a worker's EventLog sends its events through it.
#include "daemon/journal_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <vector>

#include "daemon/event_log.h"
#include "daemon/journal_fields.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using daemon::JournalSink;

struct Recorder {
  std::mutex mu;
  std::vector<JournalSink::Entry> sent;
  size_t count(const std::string& field) {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& e : sent) {
      for (const std::string& f : e) n += f == field ? 1u : 0u;
    }
    return n;
  }
  JournalSink::SendFn fn() {
    return [this](const JournalSink::Entry& e) {
      std::lock_guard<std::mutex> lock(mu);
      sent.push_back(e);
      return 0;
    };
  }
};

TEST(JournalSink, SendsEntriesInOrderFromItsThread) {
  Recorder r;
  JournalSink sink(JournalSink::kDefaultBacklogBytes, r.fn());
  sink.open();
  sink.write({{"MESSAGE=a", "FTPALG_VERDICT=refuse"}, {"MESSAGE=b"}});
  sink.sync();
  sink.close();
  ASSERT_EQ(r.sent.size(), 4u);  // lifecycle start, a, b, lifecycle end
  EXPECT_EQ(r.sent[1][0], "MESSAGE=a");
  EXPECT_EQ(r.sent[1][1], "FTPALG_VERDICT=refuse");
  EXPECT_EQ(r.sent[2][0], "MESSAGE=b");
  const std::string lifecycle =
      "MESSAGE_ID=" + std::string(daemon::messageId(daemon::EventClass::Lifecycle));
  EXPECT_EQ(r.sent[0][1], lifecycle);
  EXPECT_EQ(r.sent[3][1], lifecycle);
}

TEST(JournalSink, FullBacklogDropsAndReportsOnce) {
  Recorder r;
  JournalSink sink(600, r.fn());  // room for a handful of small entries
  sink.open();
  sink.sync();
  std::vector<JournalSink::Entry> batch;
  for (int i = 0; i < 50; ++i) batch.push_back({"MESSAGE=" + std::string(40, 'x')});
  sink.write(std::move(batch));
  const uint64_t dropped = sink.droppedEntries();
  sink.sync();
  sink.close();
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(dropped, 50u);
  size_t reports = 0;
  const std::string limit =
      "MESSAGE_ID=" + std::string(daemon::messageId(daemon::EventClass::Limit));
  for (const auto& e : r.sent) {
    if (e.size() > 1 && e[1] == limit) {
      ++reports;
      EXPECT_EQ(e[0],
                "MESSAGE=" + std::to_string(dropped) + " journal entries dropped (backlog full)");
    }
  }
  EXPECT_EQ(reports, 1u);
  EXPECT_EQ(r.sent.size(), 2 + (50 - dropped) + 1);
}

TEST(JournalSink, StreamDetectionComparesDeviceAndInode) {
  char path[] = "/tmp/ftpalg-journal-stream-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(fstat(fd, &st), 0);
  const std::string mine = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  const std::string other = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1);
  EXPECT_TRUE(daemon::streamIsJournal(mine.c_str(), fd));
  EXPECT_FALSE(daemon::streamIsJournal(other.c_str(), fd));
  EXPECT_FALSE(daemon::streamIsJournal(nullptr, fd));
  EXPECT_FALSE(daemon::streamIsJournal("", fd));
  EXPECT_FALSE(daemon::streamIsJournal("12", fd));
  EXPECT_FALSE(daemon::streamIsJournal((mine + "x").c_str(), fd));
  close(fd);
  unlink(path);
  EXPECT_TRUE(daemon::journalWanted(daemon::LogTarget::Journal));
  EXPECT_FALSE(daemon::journalWanted(daemon::LogTarget::Stderr));
}

// EventLog with the process's journal sink (log_target journal): each event is one entry with
// its FTPALG_* fields instead of a log line, under the same budget as the events file, and the
// budget's once-a-second summary is a Limit entry.
core::Event refusal(uint16_t clientPort) {
  core::Event e;
  e.flow = {endpoint("198.18.0.2", clientPort), endpoint("198.19.0.2:21")};
  e.kind = core::EventKind::Port;
  e.verdict = core::Verdict::Refuse;
  e.reason = core::Reason::BounceAddress;
  e.hasAnnounced = true;
  e.announced = endpoint("192.0.2.99:50000");
  return e;
}

TEST(EventLogJournal, EachEventIsOneEntryWithinTheBudget) {
  Recorder r;
  daemon::JournalSink journal(daemon::JournalSink::kDefaultBacklogBytes, r.fn());
  journal.open();
  daemon::setEventJournal(&journal);
  daemon::EventSink file;  // no events file: entries only
  daemon::WorkerStats stats;
  daemon::WorkerLog log(5, stats);
  daemon::EventLog events(file, log, "pinhole");
  daemon::setEventJournal(nullptr);
  const uint64_t t0 = 1'000'000'000;
  events.record(refusal(40001), t0);  // another session: its own budget
  for (int i = 0; i < 100; ++i) events.record(refusal(40000), t0);
  events.flush();
  events.expire(t0 + 2'000'000'000);
  events.flush();
  journal.sync();
  journal.close();
  // A session's burst is 64 events (EventBudgetConfig): 64 + 1 entries, 36 suppressed.
  EXPECT_EQ(r.count("FTPALG_VERDICT=refuse"), 65u);
  EXPECT_EQ(r.count("FTPALG_QUEUE=5"), 66u);
  EXPECT_EQ(r.count("FTPALG_SUPPRESSED=36"), 1u);
  EXPECT_EQ(r.count("FTPALG_CLIENT=198.18.0.2:40001"), 1u);
  EXPECT_EQ(r.count("MESSAGE_ID=" + std::string(daemon::messageId(daemon::EventClass::Refuse))),
            65u);
  EXPECT_EQ(r.count("MESSAGE_ID=" + std::string(daemon::messageId(daemon::EventClass::Limit))), 1u);
}

}  // namespace
}  // namespace ftpalg::test
