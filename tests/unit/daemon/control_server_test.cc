// The control socket (src/daemon/control_server.cc) with a queue worker on a fake queue: a
// status request answered from the worker's engine while its thread serves the mailbox, a
// worker that does not answer shown as such, bad requests, who may ask, and the socket file's
// life (mode, a stale socket replaced, a live one or a non-socket left alone, removed at stop).
#include "daemon/control_server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli/status_cmd.h"
#include "daemon/clock.h"
#include "tests/support/fake_admitter.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using Json = nlohmann::json;

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon::WorkerSettings s;
    s.queue.queueNum = 5;
    worker_ = std::make_unique<daemon::QueueWorker>(
        s, events_, queue_, [](daemon::WorkerLog&) { return std::make_unique<FakeAdmitter>(); });
    ASSERT_TRUE(worker_->open().ok());
    conn_.setAddresses(endpoint("198.18.0.2:40000"), endpoint("198.19.0.2:21"));
    conn_.handshake();
    conn_.send(Dir::S2C, "220 hi\r\n");
    char tmpl[] = "/tmp/ftpalg-control-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/control.sock";
  }
  void TearDown() override {
    stopServing();
    (void)unlink(path_.c_str());
    (void)rmdir(dir_.c_str());
  }
  // The worker's thread, answering status questions only.
  void serveMailbox() {
    serving_ = std::thread([this] {
      while (!stop_.load()) {
        worker_->answerStatus(daemon::monotonicNs());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  void stopServing() {
    stop_.store(true);
    if (serving_.joinable()) serving_.join();
  }
  daemon::ControlSettings settings() const { return {path_, "", "pinhole"}; }

  FakeQueue queue_;
  daemon::EventSink events_;
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};
  std::string dir_, path_;
  std::thread serving_;
  std::atomic<bool> stop_{false};
};

TEST_F(ControlServerTest, StatusOverTheSocket) {
  serveMailbox();
  daemon::ControlServer server(settings(), {worker_.get()});
  ASSERT_TRUE(server.open().ok());
  struct stat st {};
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // no control_group: owner (and root) only
  server.start();
  std::string response;
  ASSERT_TRUE(cli::queryControl(path_, "status", 5000, response).ok());
  const Json j = Json::parse(response, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << response;
  EXPECT_EQ(j["schema"], 1);
  EXPECT_EQ(j["daemon"]["pid"], getpid());
  ASSERT_EQ(j["queues"].size(), 1u);
  EXPECT_EQ(j["queues"][0]["queue"], 5);
  EXPECT_EQ(j["queues"][0]["answered"], true);
  ASSERT_EQ(j["queues"][0]["sessions"].size(), 1u);
  EXPECT_EQ(j["queues"][0]["sessions"][0]["login"], "greeted");

  ASSERT_TRUE(cli::queryControl(path_, "bogus", 5000, response).ok());
  EXPECT_NE(response.find(R"("code":"unknown_command")"), std::string::npos) << response;
  ASSERT_TRUE(cli::queryControl(path_, std::string(300, 'x'), 5000, response).ok());
  EXPECT_NE(response.find(R"("code":"request_too_long")"), std::string::npos) << response;

  // A second daemon does not take a socket that is served.
  daemon::ControlServer second(settings(), {worker_.get()});
  const Status s = second.open();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("served by another process"), std::string::npos) << s.message();
  server.stop();
  EXPECT_NE(lstat(path_.c_str(), &st), 0) << "socket file left behind";
  EXPECT_FALSE(cli::queryControl(path_, "status", 5000, response).ok());
}

TEST_F(ControlServerTest, AStuckWorkerIsShownNotWaitedFor) {
  daemon::ControlServer server(settings(), {worker_.get()});  // nobody serves the mailbox
  const auto start = std::chrono::steady_clock::now();
  const Json j = Json::parse(server.answer("status"), nullptr, false);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["queues"][0]["answered"], false);
  EXPECT_GT(j["queues"][0]["counters"]["worker"]["packets"].get<uint64_t>(), 0u);
  EXPECT_LT(took, std::chrono::seconds(20));
  std::printf(
      "stuck worker answered after %lld ms\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
}

TEST_F(ControlServerTest, SessionRequest) {
  serveMailbox();
  daemon::ControlServer server(settings(), {worker_.get()});
  Json j = Json::parse(server.answer("session 198.18.0.2:40000-198.19.0.2:21"), nullptr, false);
  EXPECT_EQ(j["found"], true) << j.dump();
  EXPECT_EQ(j["queues"][0]["session"]["state"], "established");
  j = Json::parse(server.answer("session 198.18.0.2:1-198.19.0.2:21"), nullptr, false);
  EXPECT_EQ(j["found"], false);
  EXPECT_TRUE(j["queues"].empty());
}

TEST_F(ControlServerTest, WhoMayAsk) {
  daemon::ControlServer server(settings(), {worker_.get()});
  EXPECT_TRUE(server.allowed(0, 0, {}));
  EXPECT_TRUE(server.allowed(geteuid(), 12345, {}));
  const uid_t other = geteuid() == 65533 ? 65532 : 65533;
  EXPECT_FALSE(server.allowed(other, 65534, {65534}));  // no control_group: nobody else
}

TEST_F(ControlServerTest, GroupMembersMayAsk) {
  if (geteuid() != 0) GTEST_SKIP() << "chgrp of the socket needs root";
  daemon::ControlServer server({path_, "nogroup", "pinhole"}, {worker_.get()});
  ASSERT_TRUE(server.open().ok());
  struct stat st {};
  ASSERT_EQ(lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_TRUE(server.allowed(1000, 65534, {}));        // primary group
  EXPECT_TRUE(server.allowed(1000, 100, {4, 65534}));  // supplementary group
  EXPECT_FALSE(server.allowed(1000, 100, {4, 27}));
}

TEST_F(ControlServerTest, StaleSocketReplacedOtherFilesKept) {
  {
    daemon::ControlServer old(settings(), {worker_.get()});
    ASSERT_TRUE(old.open().ok());
    // Moved away, stop() removes nothing: the file is left without a listener (a crash).
    ASSERT_EQ(rename(path_.c_str(), (path_ + ".keep").c_str()), 0);
  }
  ASSERT_EQ(rename((path_ + ".keep").c_str(), path_.c_str()), 0);
  daemon::ControlServer next(settings(), {worker_.get()});
  EXPECT_TRUE(next.open().ok());
  next.stop();
  std::ofstream(path_) << "not a socket";
  daemon::ControlServer third(settings(), {worker_.get()});
  const Status s = third.open();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is not a socket"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ftpalg::test
