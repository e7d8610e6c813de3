// The worker metrics (worker_metrics.h) as the queue worker fills them: every event counted by
// kind, verdict and reason, one latency observation per verdict sent (held packets timed from
// their receipt), and the engine's counters published each serve round.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "daemon/queue_worker.h"
#include "tests/support/fake_admitter.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;

uint64_t latencyCount(const daemon::WorkerMetrics& m) {
  uint64_t n = 0;
  for (const auto& b : m.latency.buckets) n += b.load();
  return n;
}

class WorkerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon::WorkerSettings s;
    worker_ = std::make_unique<daemon::QueueWorker>(s, events_, queue_, [this](daemon::WorkerLog&) {
      auto a = std::make_unique<FakeAdmitter>();
      admitter_ = a.get();
      return a;
    });
    ASSERT_TRUE(worker_->open().ok());
    conn_.setAddresses(endpoint("198.18.0.2:40000"), endpoint("198.19.0.2:21"));
  }

  FakeQueue queue_;
  FakeAdmitter* admitter_ = nullptr;
  daemon::EventSink events_;
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};
};

TEST_F(WorkerMetricsTest, EventsAreCountedByKindVerdictAndReason) {
  ::testing::internal::CaptureStderr();
  conn_.handshake();
  conn_.send(Dir::C2S, "PASV\r\n");
  conn_.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  // The server announces a third host (refused: pasv_address_mismatch, the default policy).
  conn_.send(Dir::C2S, "PASV\r\n");
  conn_.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,99,156,65)\r\n");
  (void)::testing::internal::GetCapturedStderr();
  const daemon::EventCounts& e = worker_->metrics().events;
  EXPECT_EQ(e.get(core::EventKind::Pasv227, core::Verdict::Admit, core::Reason::Ok), 1u);
  EXPECT_EQ(
      e.get(core::EventKind::Pasv227, core::Verdict::Refuse, core::Reason::PasvAddressMismatch),
      1u);
  EXPECT_EQ(e.get(core::EventKind::Port, core::Verdict::Admit, core::Reason::Ok), 0u);
}

TEST_F(WorkerMetricsTest, EveryVerdictSentIsTimedOnce) {
  // The client behind SNAT: its PORT is rewritten, so a partial PORT line is held.
  admitter_->nat.enabled = true;
  admitter_->nat.binding = core::NatBinding{ipFromText("198.18.0.2"), ipFromText("198.51.100.7"),
                                            ipFromText("198.19.0.2"), ipFromText("198.19.0.2")};
  ::testing::internal::CaptureStderr();
  conn_.handshake();
  conn_.send(Dir::C2S, "NOOP\r\n");
  // A held partial line: no verdict (and no latency) until its end comes.
  const uint32_t head = conn_.send(Dir::C2S, "PORT 198,18,0");
  EXPECT_TRUE(queue_.verdictsFor(head).empty());  // held
  EXPECT_EQ(worker_->stats().held.load(), 1u);
  const uint64_t beforeTail = latencyCount(worker_->metrics());
  EXPECT_EQ(beforeTail, queue_.sent.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  conn_.send(Dir::C2S, ",2,195,80\r\n");
  (void)::testing::internal::GetCapturedStderr();
  EXPECT_EQ(latencyCount(worker_->metrics()), queue_.sent.size());
  EXPECT_EQ(latencyCount(worker_->metrics()), worker_->stats().packets.load());
  // The held packet waited 30 ms: one observation above 25 ms.
  const auto& b = worker_->metrics().latency.buckets;
  uint64_t slow = 0;
  for (size_t i = daemon::LatencyHistogram::bucketOf(25'000'001); i < b.size(); ++i) slow += b[i];
  EXPECT_EQ(slow, 1u);
}

TEST_F(WorkerMetricsTest, EngineCountersArePublishedEachRound) {
  EXPECT_EQ(worker_->published().read().publishes, 0u);
  conn_.handshake();
  const daemon::EngineStats s = worker_->published().read();
  EXPECT_GE(s.publishes, 1u);
  EXPECT_EQ(s.counter(core::Counter::Segments), worker_->engine().counter(core::Counter::Segments));
  EXPECT_GT(s.counter(core::Counter::Segments), 0u);
  EXPECT_EQ(s.sessions, 1u);
}

}  // namespace
}  // namespace ftpalg::test
