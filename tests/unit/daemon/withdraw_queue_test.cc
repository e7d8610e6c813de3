// Withdrawals off the packet path (withdraw_queue.h): what is posted waits for the serving
// thread and comes back as outcomes; the queue is bounded and loses nothing; an admit sharing a
// key with a pending withdrawal has it done first (taken back, or waited for in flight); drain
// and destruction finish everything. Then through the queue worker and pinhole mode's
// admitter: an ended session's withdrawals leave the packet path and are counted once done, a
// refused PORT's is withdrawn before its reply is released, a new admit of a key whose
// withdrawal is still pending has that withdrawal done first, a full queue falls back to
// withdrawing at once, and the worker's shutdown drains the queue.
#include "daemon/withdraw_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "daemon/pinhole_admitter.h"
#include "daemon/queue_worker.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_kernel_backends.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"
#include "tests/support/recording_pinholes.h"

namespace ftpalg::test {
namespace {

using daemon::Withdrawal;
using daemon::WithdrawOutcome;
using daemon::WithdrawQueue;

// A PASV pinhole from client 198.18.0.2 to server port `port` (no NAT: natTo == dst).
core::Expectation pasv(uint16_t port, const char* client = "198.18.0.2") {
  core::Expectation x;
  x.src = core::Endpoint{ipFromText(client), 0};
  x.dst = core::Endpoint{ipFromText("198.19.0.2"), port};
  x.natTo = x.dst;
  return x;
}

// A PORT through NAT: the server 198.19.0.2 dials public 198.19.1.1:`pub`, sent to the client
// 198.18.0.2:`inside`.
core::Expectation port(uint16_t pub, uint16_t inside) {
  core::Expectation x;
  x.src = core::Endpoint{ipFromText("198.19.0.2"), 0};
  x.dst = core::Endpoint{ipFromText("198.19.1.1"), pub};
  x.natTo = core::Endpoint{ipFromText("198.18.0.2"), inside};
  return x;
}

Withdrawal ended(const core::Expectation& x) { return Withdrawal{core::FlowKey{}, x}; }

class WithdrawQueueTest : public ::testing::Test {
 protected:
  // A queue whose withdrawals the test serves (serveOnce) or a thread does.
  void build(size_t capacity, WithdrawQueue::Serving serving = WithdrawQueue::Serving::Caller) {
    auto b = std::make_unique<RecordingPinholes>(journal_, "thread");
    thread_ = b.get();
    queue_ = std::make_unique<WithdrawQueue>(std::move(b), capacity, serving);
  }
  std::vector<WithdrawOutcome> collect() {
    std::vector<WithdrawOutcome> out;
    queue_->collect(out);
    return out;
  }

  PinholeJournal journal_;
  RecordingPinholes sync_{journal_, "sync"};  // the queue thread's own backend
  RecordingPinholes* thread_ = nullptr;       // owned by the queue
  std::unique_ptr<WithdrawQueue> queue_;
};

TEST_F(WithdrawQueueTest, PostedWithdrawalsWaitForTheServingThreadAndComeBackAsOutcomes) {
  build(16);
  for (const uint16_t p : {uint16_t{40001}, uint16_t{40002}, uint16_t{40003}})
    ASSERT_TRUE(queue_->post(ended(pasv(p))));
  EXPECT_TRUE(journal_.lines().empty());
  EXPECT_EQ(queue_->pending(), 3u);
  EXPECT_TRUE(collect().empty());
  EXPECT_TRUE(queue_->serveOnce());
  EXPECT_EQ(journal_.lines(), (std::vector<std::string>{
                                  "thread withdraw 40001",
                                  "thread withdraw 40002",
                                  "thread withdraw 40003",
                              }));
  EXPECT_EQ(thread_->batches(), std::vector<size_t>{3});  // one call: one transaction
  EXPECT_EQ(queue_->pending(), 0u);
  const std::vector<WithdrawOutcome> out = collect();
  ASSERT_EQ(out.size(), 3u);
  for (const WithdrawOutcome& o : out) EXPECT_TRUE(o.status.ok());
  EXPECT_EQ(out[2].withdrawal.expect.dst.port, 40003);
  EXPECT_FALSE(queue_->serveOnce());
}

TEST_F(WithdrawQueueTest, AFailureComesBackWithItsWithdrawal) {
  build(16);
  thread_->failPort = 40002;
  ASSERT_TRUE(queue_->post(ended(pasv(40001))));
  ASSERT_TRUE(queue_->post(ended(pasv(40002))));
  ASSERT_TRUE(queue_->serveOnce());
  const std::vector<WithdrawOutcome> out = collect();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(out[0].status.ok());
  EXPECT_EQ(out[1].status.err(), EPERM);
  EXPECT_EQ(out[1].withdrawal.expect.dst.port, 40002);
}

TEST_F(WithdrawQueueTest, BoundedWhileOutcomesAreNotCollectedAndNothingIsLost) {
  build(2);
  EXPECT_TRUE(queue_->post(ended(pasv(40001))));
  EXPECT_TRUE(queue_->post(ended(pasv(40002))));
  EXPECT_FALSE(queue_->post(ended(pasv(40003))));  // the caller withdraws it itself
  ASSERT_TRUE(queue_->serveOnce());
  EXPECT_FALSE(queue_->post(ended(pasv(40003))));  // done, but not collected yet
  EXPECT_EQ(collect().size(), 2u);
  EXPECT_TRUE(queue_->post(ended(pasv(40003))));
  EXPECT_EQ(queue_->pending(), 1u);
}

TEST_F(WithdrawQueueTest, BatchesTakeAtMostFortyWithdrawals) {
  build(128);
  for (uint16_t p = 0; p < 100; ++p)
    ASSERT_TRUE(queue_->post(ended(pasv(static_cast<uint16_t>(40000 + p)))));
  while (queue_->serveOnce()) {
  }
  EXPECT_EQ(thread_->batches(), (std::vector<size_t>{40, 40, 20}));
  EXPECT_EQ(collect().size(), 100u);
}

TEST_F(WithdrawQueueTest, AnAdmitOfAPendingPinKeyHasItsWithdrawalDoneFirst) {
  build(16);
  ASSERT_TRUE(queue_->post(ended(pasv(40001))));
  ASSERT_TRUE(queue_->post(ended(pasv(40002))));
  std::vector<WithdrawOutcome> done;
  // The client's next session announces 40002 again: its old withdrawal goes now, here.
  EXPECT_EQ(queue_->settle(pasv(40002), sync_, done), 1u);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].withdrawal.expect.dst.port, 40002);
  EXPECT_TRUE(done[0].status.ok());
  (void)sync_.admit(pasv(40002));
  // The thread withdraws only what is still its own.
  ASSERT_TRUE(queue_->serveOnce());
  EXPECT_EQ(journal_.lines(), (std::vector<std::string>{
                                  "sync withdraw 40002",
                                  "sync admit 40002",
                                  "thread withdraw 40001",
                              }));
  EXPECT_EQ(collect().size(), 1u);
  EXPECT_EQ(queue_->pending(), 0u);
}

TEST_F(WithdrawQueueTest, UnrelatedAdmitsLeaveThePendingWithdrawalsAlone) {
  build(16);
  ASSERT_TRUE(queue_->post(ended(pasv(40001))));
  std::vector<WithdrawOutcome> done;
  EXPECT_EQ(queue_->settle(pasv(40002), sync_, done), 0u);
  EXPECT_EQ(queue_->settle(pasv(40001, "198.18.0.3"), sync_, done), 0u);
  EXPECT_TRUE(done.empty());
  EXPECT_TRUE(journal_.lines().empty());
  EXPECT_EQ(queue_->pending(), 1u);
}

TEST_F(WithdrawQueueTest, KeysSharedThroughTheNatMapOrThePin) {
  // The same announced endpoint through NAT, to another client port: the NAT map element and
  // its single-use mark are shared.
  EXPECT_TRUE(WithdrawQueue::sharesKey(port(45000, 41000), port(45000, 41001)));
  // The same client port behind another public port: the pin is shared.
  EXPECT_TRUE(WithdrawQueue::sharesKey(port(45000, 41000), port(45001, 41000)));
  EXPECT_FALSE(WithdrawQueue::sharesKey(port(45000, 41000), port(45001, 41001)));
  // Without NAT the announced endpoint is the pin: a NAT map key equal to it is another set.
  core::Expectation plain = port(45000, 45000);
  plain.natTo = plain.dst;
  EXPECT_FALSE(WithdrawQueue::sharesKey(plain, port(45000, 41000)));
  EXPECT_TRUE(WithdrawQueue::sharesKey(pasv(40001), pasv(40001)));
  EXPECT_FALSE(WithdrawQueue::sharesKey(pasv(40001), pasv(40001, "198.18.0.3")));
}

TEST_F(WithdrawQueueTest, KeysSharedThroughTheSourceNatMap) {
  // The source NAT map is keyed by the dialled destination (source . dst), like the NAT map:
  // a source-NATed announcement sent elsewhere and one that is not share its element.
  core::Expectation sent = port(45000, 41000);
  sent.hasSrcNat = true;
  core::Expectation routed = port(45000, 45000);
  routed.natTo = routed.dst;
  routed.hasSrcNat = true;
  EXPECT_TRUE(WithdrawQueue::sharesKey(sent, routed));
  EXPECT_TRUE(WithdrawQueue::sharesKey(routed, sent));
  routed.hasSrcNat = false;
  EXPECT_FALSE(WithdrawQueue::sharesKey(sent, routed));
}

TEST_F(WithdrawQueueTest, AnAdmitOfANatKeyInFlightWaitsForItsBatch) {
  build(16, WithdrawQueue::Serving::Thread);
  thread_->hold();
  ASSERT_TRUE(queue_->post(ended(port(45000, 41000))));
  queue_->kick();
  thread_->waitEntered();  // the thread has it and waits in the kernel (held)
  std::vector<WithdrawOutcome> done;
  auto admit = std::async(std::launch::async, [&] {
    const size_t n = queue_->settle(port(45000, 41001), sync_, done);
    (void)sync_.admit(port(45000, 41001));
    return n;
  });
  EXPECT_EQ(admit.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_TRUE(journal_.lines().empty());
  thread_->release();
  EXPECT_EQ(admit.get(), 1u);
  EXPECT_TRUE(done.empty());  // the thread's outcome: collected as usual
  EXPECT_EQ(journal_.lines(), (std::vector<std::string>{
                                  "thread withdraw 41000",
                                  "sync admit 41001",
                              }));
}

TEST_F(WithdrawQueueTest, DrainWaitsForTheThreadToFinishEverything) {
  build(1024, WithdrawQueue::Serving::Thread);
  for (uint16_t p = 0; p < 100; ++p)
    ASSERT_TRUE(queue_->post(ended(pasv(static_cast<uint16_t>(40000 + p)))));
  queue_->kick();
  queue_->drain();
  EXPECT_EQ(queue_->pending(), 0u);
  EXPECT_EQ(journal_.lines().size(), 100u);
  EXPECT_EQ(collect().size(), 100u);
  for (size_t b : thread_->batches()) EXPECT_LE(b, WithdrawQueue::kBatch);
}

TEST_F(WithdrawQueueTest, DrainBeforeTheThreadStartedWithdrawsOnTheCaller) {
  build(16, WithdrawQueue::Serving::Thread);
  ASSERT_TRUE(queue_->post(ended(pasv(40001))));
  queue_->drain();  // never kicked
  EXPECT_EQ(journal_.lines(), std::vector<std::string>{"thread withdraw 40001"});
  EXPECT_EQ(collect().size(), 1u);
}

TEST_F(WithdrawQueueTest, KickServingWithdrawsOnTheQueueThreadAfterTheBatch) {
  build(16, WithdrawQueue::Serving::Kick);
  ASSERT_TRUE(queue_->post(ended(pasv(40001))));
  ASSERT_TRUE(queue_->post(ended(pasv(40002))));
  EXPECT_TRUE(journal_.lines().empty());
  queue_->kick();
  EXPECT_EQ(journal_.lines().size(), 2u);
  EXPECT_EQ(thread_->batches(), std::vector<size_t>{2});
  EXPECT_EQ(collect().size(), 2u);
}

TEST_F(WithdrawQueueTest, DestructionFinishesWhatIsPending) {
  build(16, WithdrawQueue::Serving::Thread);
  ASSERT_TRUE(queue_->post(ended(pasv(40001))));
  queue_->kick();
  ASSERT_TRUE(queue_->post(ended(pasv(40002))));
  queue_.reset();
  std::vector<std::string> lines = journal_.lines();
  std::sort(lines.begin(), lines.end());
  EXPECT_EQ(lines, (std::vector<std::string>{"thread withdraw 40001", "thread withdraw 40002"}));
}

using core::Dir;

class PinholeWithdrawTest : public ::testing::Test {
 protected:
  const core::Endpoint client_ = endpoint("198.18.0.2:40000");
  const core::Endpoint server_ = endpoint("198.19.0.2:21");

  void build(size_t capacity) {
    daemon::WorkerSettings s;
    s.engine.withdrawAnnouncements = true;
    worker_ = std::make_unique<daemon::QueueWorker>(
        s, events_, queue_, [this, &s, capacity](daemon::WorkerLog& log) {
          auto a = std::make_unique<daemon::PinholeAdmitter>(
              std::make_unique<RecordingPinholes>(journal_, "sync"),
              std::make_unique<FakeConntrack>(), s.engine.idleTimeoutNs, log);
          auto deferred = std::make_unique<RecordingPinholes>(journal_, "thread");
          thread_ = deferred.get();
          auto q = std::make_unique<daemon::WithdrawQueue>(std::move(deferred), capacity,
                                                           daemon::WithdrawQueue::Serving::Caller);
          withdrawals_ = q.get();
          a->deferWithdrawals(std::move(q));
          return a;
        });
    ASSERT_TRUE(worker_->open().ok());
  }
  // A session from client port `cport` that is greeted and receives a 227 for server port
  // `dport` (a pinhole for it admitted).
  std::unique_ptr<FakeControlConnection> session(uint16_t cport, uint16_t dport) {
    auto c = std::make_unique<FakeControlConnection>(queue_, [this] { worker_->serveOnce(); });
    c->setAddresses(core::Endpoint{client_.addr, cport}, server_);
    c->handshake();
    c->send(Dir::C2S, "PASV\r\n");
    c->send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2," + std::to_string(dport >> 8) + "," +
                          std::to_string(dport & 255) + ")\r\n");
    return c;
  }
  void end(FakeControlConnection& c) { c.send(Dir::C2S, "", core::TcpRst | core::TcpAck); }
  uint64_t stat(const std::atomic<uint64_t>& c) { return c.load(); }
  const daemon::WorkerStats& stats() { return worker_->stats(); }

  PinholeJournal journal_;
  FakeQueue queue_;
  daemon::EventSink events_;
  daemon::WithdrawQueue* withdrawals_ = nullptr;  // owned by the worker's admitter
  RecordingPinholes* thread_ = nullptr;           // owned by withdrawals_
  std::unique_ptr<daemon::QueueWorker> worker_;
};

TEST_F(PinholeWithdrawTest, AnEndedSessionsWithdrawalLeavesThePacketPathAndIsCountedOnceDone) {
  build(16);
  auto c = session(40000, 40001);
  end(*c);
  // Not withdrawn on the packet path: posted.
  EXPECT_EQ(journal_.lines(), std::vector<std::string>{"sync admit 40001"});
  EXPECT_EQ(stat(stats().withdrawDeferred), 1u);
  EXPECT_EQ(stat(stats().withdrawPending), 1u);
  EXPECT_EQ(stat(stats().withdrawn), 0u);
  ASSERT_TRUE(withdrawals_->serveOnce());  // what the thread does after the batch's verdicts
  EXPECT_EQ(journal_.lines(),
            (std::vector<std::string>{"sync admit 40001", "thread withdraw 40001"}));
  worker_->serveOnce();  // the next round reports the outcome
  EXPECT_EQ(stat(stats().withdrawn), 1u);
  EXPECT_EQ(stat(stats().withdrawPending), 0u);
  EXPECT_EQ(stat(stats().withdrawFailures), 0u);
}

TEST_F(PinholeWithdrawTest, AFailedDeferredWithdrawalIsCountedAsAFailure) {
  build(16);
  thread_->failPort = 40001;
  auto c = session(40000, 40001);
  end(*c);
  ASSERT_TRUE(withdrawals_->serveOnce());
  ::testing::internal::CaptureStderr();
  worker_->serveOnce();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stat(stats().withdrawFailures), 1u);
  EXPECT_EQ(stat(stats().withdrawn), 0u);
  EXPECT_NE(log.find("withdrawing pinhole"), std::string::npos) << log;
}

TEST_F(PinholeWithdrawTest, ANewAdmitOfAKeyWhoseWithdrawalIsPendingHasItDoneFirst) {
  build(16);
  auto first = session(40000, 40001);
  end(*first);
  // The same client announces the same data port in its next session before the thread ran.
  auto second = session(40002, 40001);
  EXPECT_EQ(journal_.lines(), (std::vector<std::string>{
                                  "sync admit 40001",
                                  "sync withdraw 40001",
                                  "sync admit 40001",
                              }));
  EXPECT_EQ(stat(stats().withdrawOrdered), 1u);
  EXPECT_EQ(stat(stats().withdrawn), 1u);
  EXPECT_FALSE(withdrawals_->serveOnce());  // nothing left that could delete the new pinhole
}

TEST_F(PinholeWithdrawTest, ARefusedPortIsWithdrawnBeforeItsReplyIsReleased) {
  build(16);
  auto c = std::make_unique<FakeControlConnection>(queue_, [this] { worker_->serveOnce(); });
  c->setAddresses(client_, server_);
  c->handshake();
  c->send(Dir::C2S, "PORT 198,18,0,2,156,65\r\n");
  c->send(Dir::S2C, "500 no\r\n");
  EXPECT_EQ(journal_.lines(),
            (std::vector<std::string>{"sync admit 40001", "sync withdraw 40001"}));
  EXPECT_EQ(stat(stats().withdrawDeferred), 0u);
  EXPECT_EQ(stat(stats().withdrawn), 1u);
}

TEST_F(PinholeWithdrawTest, AFullQueueWithdrawsOnThePacketPathAndCountsIt) {
  build(1);
  auto a = session(40000, 40001);
  auto b = session(40002, 40002);
  end(*a);
  end(*b);
  EXPECT_EQ(stat(stats().withdrawDeferred), 1u);
  EXPECT_EQ(stat(stats().withdrawSyncFallbacks), 1u);
  EXPECT_EQ(journal_.lines(), (std::vector<std::string>{
                                  "sync admit 40001",
                                  "sync admit 40002",
                                  "sync withdraw 40002",
                              }));
  EXPECT_EQ(stat(stats().withdrawn), 1u);
}

TEST_F(PinholeWithdrawTest, ShutdownDrainsThePendingWithdrawals) {
  build(16);
  auto a = session(40000, 40001);
  end(*a);
  EXPECT_EQ(stat(stats().withdrawn), 0u);
  worker_->shutdown();
  EXPECT_EQ(journal_.lines(),
            (std::vector<std::string>{"sync admit 40001", "thread withdraw 40001"}));
  EXPECT_EQ(stat(stats().withdrawn), 1u);
  EXPECT_EQ(stat(stats().withdrawPending), 0u);
}

}  // namespace
}  // namespace ftpalg::test
