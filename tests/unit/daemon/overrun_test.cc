// ENOBUFS on the queue socket (src/daemon/overrun.cc): the worker counts every overrun, logs
// one warning per burst and one line when the burst has ended, and goes on serving.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "daemon/clock.h"
#include "daemon/queue_worker.h"
#include "tests/support/fake_admitter.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using kernel::NfVerdict;

size_t count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

class OverrunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon::WorkerSettings s;
    s.heldCapacity = 16;
    worker_ = std::make_unique<daemon::QueueWorker>(
        s, events_, queue_, [](daemon::WorkerLog&) { return std::make_unique<FakeAdmitter>(); });
    ASSERT_TRUE(worker_->open().ok());
    conn_.setAddresses(endpoint("198.18.0.2:40000"), endpoint("198.19.0.2:21"));
  }
  uint64_t overruns() const { return worker_->stats().overruns.load(); }

  FakeQueue queue_;
  daemon::EventSink events_;
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};
};

TEST_F(OverrunTest, ABurstIsCountedLoggedOnceAndTheWorkerGoesOn) {
  queue_.overruns = 150;
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 5; ++i) worker_->serveOnce();
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(queue_.overruns, 0);
  EXPECT_EQ(overruns(), 150u);
  EXPECT_EQ(count(log, "receive buffer overrun (ENOBUFS)"), 1u) << log;
  EXPECT_EQ(count(log, "dropped (fail-closed)"), 1u) << log;

  // The worker still serves: a control conversation after the burst gets its verdicts.
  conn_.handshake();
  const uint32_t pasv = conn_.send(Dir::C2S, "PASV\r\n");
  const uint32_t reply = conn_.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  for (uint32_t id : {pasv, reply}) {
    ASSERT_EQ(queue_.verdictsFor(id).size(), 1u) << id;
    EXPECT_EQ(queue_.verdictsFor(id)[0].verdict, NfVerdict::Accept) << id;
  }

  // Quiet for longer than the burst gap: one line with the total.
  ::testing::internal::CaptureStderr();
  worker_->expire(daemon::monotonicNs() + 10'000'000'000);
  worker_->expire(daemon::monotonicNs() + 20'000'000'000);
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(log, "receive overruns ended: 150 ENOBUFS"), 1u) << log;

  // A later burst is reported again.
  queue_.overruns = 3;
  ::testing::internal::CaptureStderr();
  worker_->serveOnce();
  log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(log, "receive buffer overrun (ENOBUFS)"), 1u) << log;
  EXPECT_EQ(overruns(), 153u);
}

}  // namespace
}  // namespace ftpalg::test
