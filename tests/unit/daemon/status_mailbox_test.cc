// The status mailbox (src/daemon/status_mailbox.h): a question posted by the control thread is
// answered by the worker's serve(); an unanswered one times out and its late answer is thrown
// away; a newer question replaces an older one.
#include "daemon/status_mailbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ftpalg::test {
namespace {

using daemon::StatusMailbox;
using daemon::StatusQuestion;
using Clock = std::chrono::steady_clock;

TEST(StatusMailbox, NothingPendingServesNothing) {
  StatusMailbox m;
  int calls = 0;
  m.serve([&](const StatusQuestion&) {
    ++calls;
    return std::string("x");
  });
  EXPECT_EQ(calls, 0);
}

TEST(StatusMailbox, AnsweredByTheWorkerThread) {
  StatusMailbox m;
  std::atomic<bool> stop{false};
  std::thread worker([&] {
    while (!stop.load()) {
      m.serve([](const StatusQuestion& q) {
        return std::string(q.kind == StatusQuestion::Kind::Session ? "session" : "sessions");
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  const uint64_t t = m.post(StatusQuestion{StatusQuestion::Kind::Session, {}});
  const auto answer = m.wait(t, Clock::now() + std::chrono::seconds(30));
  stop.store(true);
  worker.join();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(*answer, "session");
}

TEST(StatusMailbox, AStuckWorkerTimesOutAndItsLateAnswerIsDropped) {
  StatusMailbox m;
  const uint64_t first = m.post(StatusQuestion{});
  const auto start = Clock::now();
  EXPECT_FALSE(m.wait(first, start + std::chrono::milliseconds(50)).has_value());
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(50));
  const uint64_t second = m.post(StatusQuestion{StatusQuestion::Kind::Session, {}});
  // The worker wakes up: it answers the newest question, not the one it missed.
  m.serve([](const StatusQuestion& q) {
    return std::string(q.kind == StatusQuestion::Kind::Session ? "newest" : "stale");
  });
  EXPECT_FALSE(m.wait(first, Clock::now()).has_value());
  const auto answer = m.wait(second, Clock::now());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(*answer, "newest");
}

}  // namespace
}  // namespace ftpalg::test
