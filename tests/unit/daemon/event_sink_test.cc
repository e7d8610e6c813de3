// The events sink: lines written by the sink's own thread, everything queued on the file after
// sync() or close(), a full backlog dropping lines with one "suppressed" line, and reopen()
// starting a new file after the old one was moved away (logrotate).
#include "daemon/event_sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ftpalg::test {
namespace {

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class EventSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ftpalg-event-sink-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = dir_ / "events.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

TEST_F(EventSinkTest, LinesReachTheFileBySyncAndClose) {
  daemon::EventSink sink;
  ASSERT_TRUE(sink.open(path_.string()).ok());
  sink.write("{\"a\":1}\n");
  sink.sync();
  EXPECT_EQ(slurp(path_), "{\"a\":1}\n");
  sink.write("{\"b\":2}\n");
  sink.close();
  EXPECT_EQ(slurp(path_), "{\"a\":1}\n{\"b\":2}\n");
  EXPECT_FALSE(sink.enabled());
}

TEST_F(EventSinkTest, ReopenAfterTheFileWasMovedStartsANewFile) {
  daemon::EventSink sink;
  ASSERT_TRUE(sink.open(path_.string()).ok());
  sink.write("{\"before\":1}\n");
  sink.sync();
  std::filesystem::rename(path_, dir_ / "events.jsonl.1");
  sink.write("{\"late\":1}\n");  // still the old file: it was open when moved
  sink.reopen();
  sink.write("{\"after\":1}\n");
  sink.close();
  EXPECT_EQ(slurp(dir_ / "events.jsonl.1"), "{\"before\":1}\n{\"late\":1}\n");
  EXPECT_EQ(slurp(path_), "{\"after\":1}\n");
}

TEST_F(EventSinkTest, FullBacklogDropsLinesAndSaysHowMany) {
  daemon::EventSink sink(16);  // bytes
  ASSERT_TRUE(sink.open(path_.string()).ok());
  // Nothing guarantees the writer is slower than this thread, so count rather than assume.
  const std::string line = "{\"n\":123456789}\n";         // 16 bytes: one fits
  for (int i = 0; i < 100; ++i) sink.write(line + line);  // 32 bytes: never fits
  sink.close();
  EXPECT_EQ(sink.droppedLines(), 200u);
  const std::string out = slurp(path_);
  EXPECT_EQ(out.find("{\"n\""), std::string::npos);
  EXPECT_NE(out.find("\"kind\":\"suppressed\""), std::string::npos);
  EXPECT_NE(out.find("\"why\":\"events_backlog_full\""), std::string::npos);
}

TEST_F(EventSinkTest, WithoutAPathNothingIsWrittenAndNothingWaits) {
  daemon::EventSink sink;
  ASSERT_TRUE(sink.open("").ok());
  EXPECT_FALSE(sink.enabled());
  sink.write("{}\n");
  sink.reopen();
  sink.sync();
  sink.close();
}

}  // namespace
}  // namespace ftpalg::test
