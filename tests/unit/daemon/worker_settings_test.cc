// ftpalgd's worker settings (worker_settings.cc) turn the login guard and withdrawals on: through
// the queue worker, no announcement acts before a 230, and the engine's withdraw events (a
// refused PORT, an ended session) reach the admitter, counted with their failures.
#include "daemon/worker_settings.h"

#include <gtest/gtest.h>

#include <memory>
#include <string_view>

#include "daemon/config.h"
#include "daemon/failure_policy.h"
#include "daemon/queue_worker.h"
#include "tests/support/fake_admitter.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using core::Endpoint;

// One worker with ftpalgd's engine settings, a client behind SNAT to 198.51.100.7.
class WithdrawWorkerTest : public ::testing::Test {
 protected:
  const Endpoint client_ = endpoint("198.18.0.2:40000");
  const Endpoint server_ = endpoint("198.19.0.2:21");

  void SetUp() override {
    daemon::WorkerSettings s = daemon::workerSettings(daemon::DaemonConfig{}, 0);
    s.heldCapacity = 16;
    worker_ = std::make_unique<daemon::QueueWorker>(s, events_, queue_, [this](daemon::WorkerLog&) {
      auto a = std::make_unique<FakeAdmitter>();
      admitter_ = a.get();
      return a;
    });
    ASSERT_TRUE(worker_->open().ok());
    conn_.setAddresses(client_, server_);
    admitter_->nat.enabled = true;
    admitter_->nat.binding =
        core::NatBinding{client_.addr, ipFromText("198.51.100.7"), server_.addr, server_.addr};
    conn_.handshake();
    conn_.send(Dir::S2C, "220 hi\r\n");
  }
  void login() {
    conn_.send(Dir::C2S, "USER u\r\n");
    conn_.send(Dir::S2C, "331 pw\r\n");
    conn_.send(Dir::C2S, "PASS p\r\n");
    conn_.send(Dir::S2C, "230 in\r\n");
  }
  uint64_t stat(const std::atomic<uint64_t>& c) { return c.load(); }

  FakeQueue queue_;
  FakeAdmitter* admitter_ = nullptr;  // owned by the worker
  daemon::EventSink events_;
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};
};

TEST(WorkerSettings, FtpalgdWithdrawsAndRequiresLogin) {
  const daemon::WorkerSettings s = daemon::workerSettings(daemon::DaemonConfig{}, 0);
  EXPECT_TRUE(s.engine.requireLogin);
  EXPECT_TRUE(s.engine.withdrawAnnouncements);
}

TEST_F(WithdrawWorkerTest, NoAnnouncementActsBeforeLogin) {
  conn_.send(Dir::C2S, "PORT 198,18,0,2,156,64\r\n");
  conn_.send(Dir::S2C, "530 Please login\r\n");
  EXPECT_TRUE(admitter_->admits.empty());
  EXPECT_TRUE(admitter_->withdrawals.empty());
  EXPECT_EQ(stat(worker_->stats().refused), 1u);
}

TEST_F(WithdrawWorkerTest, RefusedPortIsWithdrawnBeforeTheReplyLeaves) {
  login();
  conn_.send(Dir::C2S, "PORT 198,18,0,2,156,64\r\n");
  ASSERT_EQ(admitter_->admits.size(), 1u);
  const uint32_t reply = conn_.send(Dir::S2C, "500 PORT refused\r\n");
  ASSERT_EQ(admitter_->withdrawals.size(), 1u);
  const FakeAdmitter::Admit& w = admitter_->withdrawals[0];
  EXPECT_EQ(w.flow, (core::FlowKey{client_, server_}));
  EXPECT_EQ(w.expect.dst, admitter_->admits[0].expect.dst);
  EXPECT_EQ(w.expect.natTo, admitter_->admits[0].expect.natTo);
  EXPECT_EQ(stat(worker_->stats().withdrawn), 1u);
  // The reply itself passes.
  ASSERT_EQ(queue_.verdictsFor(reply).size(), 1u);
  EXPECT_EQ(queue_.verdictsFor(reply)[0].verdict, kernel::NfVerdict::Accept);
}

TEST_F(WithdrawWorkerTest, AcceptedPortStaysUntilTheSessionEnds) {
  login();
  conn_.send(Dir::C2S, "PORT 198,18,0,2,156,64\r\n");
  conn_.send(Dir::S2C, "200 ok\r\n");
  EXPECT_TRUE(admitter_->withdrawals.empty());
  conn_.send(Dir::C2S, "", core::TcpRst | core::TcpAck);
  ASSERT_EQ(admitter_->withdrawals.size(), 1u);
  EXPECT_EQ(admitter_->withdrawals[0].expect.dst, admitter_->admits[0].expect.dst);
}

TEST_F(WithdrawWorkerTest, AFailedWithdrawIsCountedAndTheReplyStillPasses) {
  login();
  conn_.send(Dir::C2S, "PORT 198,18,0,2,156,64\r\n");
  admitter_->withdrawStatus = Status::error(EIO, "fake: withdraw");
  ::testing::internal::CaptureStderr();
  const uint32_t reply = conn_.send(Dir::S2C, "530 no\r\n");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stat(worker_->stats().withdrawFailures), 1u);
  EXPECT_EQ(stat(worker_->stats().withdrawn), 0u);
  EXPECT_NE(log.find("withdrawing pinhole"), std::string::npos) << log;
  ASSERT_EQ(queue_.verdictsFor(reply).size(), 1u);
  EXPECT_EQ(queue_.verdictsFor(reply)[0].verdict, kernel::NfVerdict::Accept);
}

}  // namespace
}  // namespace ftpalg::test
