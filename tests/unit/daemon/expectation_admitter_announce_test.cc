// Expectation mode announces the seqadj of a control connection whose verdict changed the
// stream's length: after the batch's verdicts have left, one conntrack update of the entry (by
// its original tuple), so that the kernel reports the new seqadj in an update event, which
// conntrackd replicates to a backup gateway. No announcement when nothing changed length.
#include <gtest/gtest.h>

#include <vector>

#include "tests/support/expectation_worker.h"

namespace ftpalg::test {
namespace {

using core::Dir;

// Records announce() calls together with how many verdicts had been flushed at the time.
class AnnouncingExpectations final : public daemon::ExpectationBackend {
 public:
  explicit AnnouncingExpectations(const FakeQueue& q) : queue_(q) {}
  Status open() override { return {}; }
  Status add(const kernel::CtEntry& /*master*/, const core::Expectation& /*x*/) override {
    return {};
  }
  Status remove(const core::Expectation& /*x*/) override { return {}; }
  Status announce(const kernel::CtTuple& orig) override {
    announced.push_back(orig);
    sentAtAnnounce.push_back(queue_.sent.size());
    return {};
  }
  std::vector<kernel::CtTuple> announced;
  std::vector<size_t> sentAtAnnounce;

 private:
  const FakeQueue& queue_;
};

// The worker of tests/support/expectation_worker.h on the announcing table, after the handshake.
class ExpectationAnnounceTest : public ExpectationWorkerTest<AnnouncingExpectations> {
 protected:
  void SetUp() override {
    ExpectationWorkerTest::SetUp();
    if (HasFatalFailure()) return;
    conn_.handshake();
  }
};

TEST_F(ExpectationAnnounceTest, LengthChangingRewriteIsAnnouncedAfterItsVerdict) {
  conn_.send(Dir::C2S, "PASV\r\n");
  // 10,0,0,9 -> 198,51,100,7: four bytes longer.
  const uint32_t reply = conn_.send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  const std::vector<FakeQueue::Sent> v = queue_.verdictsFor(reply);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(tcpPayload(v.front().payload), "227 Entering Passive Mode (198,51,100,7,156,64)\r\n");
  ASSERT_EQ(backend_->announced.size(), 1u);
  EXPECT_EQ(backend_->announced[0], entry_.orig);
  // The verdict had left when the entry was announced: the event carries the new seqadj.
  size_t replyAt = 0;
  for (size_t i = 0; i < queue_.sent.size(); ++i) {
    if (queue_.sent[i].id == reply) replyAt = i + 1;
  }
  EXPECT_GE(backend_->sentAtAnnounce[0], replyAt);
  // Later packets of the same session change no length: nothing more is announced.
  conn_.send(Dir::C2S, "NOOP\r\n");
  conn_.send(Dir::S2C, "200 NOOP ok.\r\n");
  EXPECT_EQ(backend_->announced.size(), 1u);
}

TEST_F(ExpectationAnnounceTest, TrafficWithoutRewriteIsNotAnnounced) {
  conn_.send(Dir::S2C, "220 ready\r\n");
  conn_.send(Dir::C2S, "USER anonymous\r\n");
  conn_.send(Dir::S2C, "230 Login successful.\r\n");
  conn_.send(Dir::C2S, "NOOP\r\n");
  conn_.send(Dir::S2C, "200 NOOP ok.\r\n");
  EXPECT_TRUE(backend_->announced.empty());
}

}  // namespace
}  // namespace ftpalg::test
