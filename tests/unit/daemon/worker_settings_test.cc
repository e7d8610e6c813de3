// ftpalgd's worker settings (worker_settings.cc) turn the login guard and withdrawals on: through
// the queue worker, no announcement acts before a 230, and the engine's withdraw events (a
// refused PORT, an ended session) reach the admitter, counted with their failures.
// Also: the configuration of sessions that outlive the process (state_dir, session_mark), as
// keys and as flags, and where they end up (worker settings, queue rules).
// g++ 12 at -O2 reports a false -Wnull-dereference inside inlined std::string code here (as in
// config_test.cc); the test has no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "daemon/worker_settings.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"
#include "daemon/failure_policy.h"
#include "daemon/queue_rules.h"
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

using namespace ftpalg::daemon;  // NOLINT(google-build-using-namespace): the unit under test

Status parse(std::vector<std::string> args, CommandLine& out) {
  args.insert(args.begin(), "ftpalgd");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return parseCommandLine(static_cast<int>(argv.size()), argv.data(), out);
}

TEST(ConfigState, Defaults) {
  const DaemonConfig cfg;
  EXPECT_EQ(cfg.stateDir, "/run/ftpalg");
  EXPECT_EQ(cfg.sessionMark, 0xf7a2u);
  const WorkerSettings w = workerSettings(cfg, 3);
  EXPECT_EQ(w.stateDir, stateDirOf("/run/ftpalg", netnsId(), 3));
  EXPECT_NE(netnsId(), 0u);
  EXPECT_EQ(stateDirOf("/run/ftpalg", 4026531840u, 3), "/run/ftpalg/net-4026531840/queue-3");
  EXPECT_EQ(w.sessionMark, 0xf7a2u);
  EXPECT_EQ(ruleSpec(cfg).sessionMark, 0xf7a2u);
}

TEST(ConfigState, Keys) {
  DaemonConfig cfg;
  ASSERT_TRUE(
      applyConfigText("state_dir = \"/var/lib/x\"\nsession_mark = \"0x10\"\n", "t.toml", cfg).ok());
  EXPECT_EQ(cfg.stateDir, "/var/lib/x");
  EXPECT_EQ(cfg.sessionMark, 0x10u);
  ASSERT_TRUE(applyConfigText("state_dir = \"\"\nsession_mark = 0\n", "t.toml", cfg).ok());
  EXPECT_TRUE(cfg.stateDir.empty());
  EXPECT_EQ(cfg.sessionMark, 0u);
  EXPECT_TRUE(workerSettings(cfg, 0).stateDir.empty());
  EXPECT_FALSE(applyConfigText("state_dir = \"relative\"\n", "t.toml", cfg).ok());
  EXPECT_FALSE(applyConfigText("session_mark = -1\n", "t.toml", cfg).ok());
  EXPECT_FALSE(applyConfigText("session_mark = \"zz\"\n", "t.toml", cfg).ok());
}

TEST(ConfigState, Flags) {
  CommandLine cl;
  ASSERT_TRUE(parse({"--state-dir", "/tmp/s", "--session-mark", "0x20"}, cl).ok());
  EXPECT_EQ(cl.config.stateDir, "/tmp/s");
  EXPECT_EQ(cl.config.sessionMark, 0x20u);
  ASSERT_TRUE(parse({"--state-dir", "", "--session-mark", "0"}, cl).ok());
  EXPECT_TRUE(cl.config.stateDir.empty());
  EXPECT_EQ(cl.config.sessionMark, 0u);
  EXPECT_FALSE(parse({"--state-dir", "x"}, cl).ok());
  EXPECT_FALSE(parse({"--session-mark", "nope"}, cl).ok());
}

}  // namespace
}  // namespace ftpalg::test
