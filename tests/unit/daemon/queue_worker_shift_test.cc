// The worker's switch to "queue everything" (docs/daemon.md, "ACK bypass"): a session whose
// stream the engine shifted is marked through the admitter before any verdict of the packet
// leaves; a failed mark is logged, not a drop, and the next shift tries again. Rewrites of the
// same length mark nothing.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/queue_worker.h"
#include "ftpalg/core/packet.h"
#include "tests/support/fake_admitter.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using core::Endpoint;
using kernel::NfVerdict;

class WorkerShiftTest : public ::testing::Test {
 protected:
  const Endpoint client_ = endpoint("198.18.0.2:40000");
  const Endpoint server_ = endpoint("198.19.0.2:21");

  void build(const core::NatBinding& nat) {
    daemon::WorkerSettings s;
    worker_ = std::make_unique<daemon::QueueWorker>(s, events_, queue_, [this](daemon::WorkerLog&) {
      auto a = std::make_unique<FakeAdmitter>();
      admitter_ = a.get();
      return a;
    });
    ASSERT_TRUE(worker_->open().ok());
    admitter_->nat.enabled = true;
    admitter_->nat.binding = nat;
    admitter_->onShifted = [this] { pendingAtShift_.push_back(queue_.pendingVerdicts()); };
    conn_.setAddresses(client_, server_);
    conn_.handshake();
  }
  core::NatBinding dnatServer() const {
    return core::NatBinding{client_.addr, client_.addr, server_.addr, ipFromText("10.0.0.9")};
  }
  std::vector<FakeQueue::Sent> verdicts(uint32_t id) const { return queue_.verdictsFor(id); }

  FakeQueue queue_;
  FakeAdmitter* admitter_ = nullptr;  // owned by the worker
  daemon::EventSink events_;
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};
  std::vector<size_t> pendingAtShift_;  // verdicts batched when each shifted() call came
};

TEST_F(WorkerShiftTest, ShiftedSessionIsMarkedBeforeThePacketsVerdict) {
  build(dnatServer());
  conn_.send(Dir::C2S, "PASV\r\n");
  const uint32_t reply = conn_.send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  ASSERT_EQ(admitter_->shiftedFlows.size(), 1u);
  EXPECT_EQ(admitter_->shiftedFlows[0], (core::FlowKey{client_, server_}));
  EXPECT_EQ(pendingAtShift_, std::vector<size_t>{0});  // the 227's verdict came after the mark
  ASSERT_EQ(verdicts(reply).size(), 1u);
  EXPECT_EQ(verdicts(reply)[0].verdict, NfVerdict::Accept);
  EXPECT_FALSE(verdicts(reply)[0].payload.empty());
  conn_.send(Dir::S2C, "150 ok\r\n");
  EXPECT_EQ(admitter_->shiftedFlows.size(), 1u);  // once per shift, not per packet
}

// A failed mark is not a drop (see the ShiftMarkFailed row): the rewrite leaves; the next
// length-changing rewrite of the session tries again.
TEST_F(WorkerShiftTest, FailedMarkLetsTheRewriteLeaveAndTheNextShiftTriesAgain) {
  build(dnatServer());
  admitter_->failShifts = 1;
  conn_.send(Dir::C2S, "PASV\r\n");
  const uint32_t reply = conn_.send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  ASSERT_EQ(verdicts(reply).size(), 1u);
  EXPECT_EQ(verdicts(reply)[0].verdict, NfVerdict::Accept);
  EXPECT_EQ(tcpPayload(verdicts(reply)[0].payload),
            "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  EXPECT_TRUE(admitter_->shiftedFlows.empty());
  conn_.send(Dir::C2S, "PASV\r\n");
  conn_.send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,65)\r\n");
  EXPECT_EQ(admitter_->shiftedFlows.size(), 1u);
  EXPECT_EQ(pendingAtShift_, (std::vector<size_t>{0, 0}));
}

TEST_F(WorkerShiftTest, SameLengthRewriteMarksNothing) {
  build(core::NatBinding{client_.addr, ipFromText("198.18.0.9"), server_.addr, server_.addr});
  const uint32_t port = conn_.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  ASSERT_EQ(verdicts(port).size(), 1u);
  EXPECT_EQ(tcpPayload(verdicts(port)[0].payload), "PORT 198,18,0,9,195,80\r\n");
  EXPECT_EQ(admitter_->rewrittenFlows.size(), 1u);
  EXPECT_TRUE(admitter_->shiftedFlows.empty());
}

}  // namespace
}  // namespace ftpalg::test
