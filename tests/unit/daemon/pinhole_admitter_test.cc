// Pinhole mode's admitter inside a worker, against fake pinhole and conntrack backends: NAT
// bindings from conntrack (a failed lookup counted, not taken for "no NAT"), pinholes per
// admit, and liberal tracking set once per rewritten session.
#include "daemon/pinhole_admitter.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "daemon/queue_worker.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_kernel_backends.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using kernel::NfVerdict;

class PinholeAdmitterTest : public ::testing::Test {
 protected:
  const core::Endpoint client_ = endpoint("198.18.0.2:40000");
  const core::Endpoint server_ = endpoint("198.19.0.2:21");
  const core::FlowKey flow_{client_, server_};

  void SetUp() override {
    daemon::WorkerSettings s;
    worker_ = std::make_unique<daemon::QueueWorker>(
        s, events_, queue_, [this, &s](daemon::WorkerLog& log) {
          auto p = std::make_unique<FakePinholes>();
          auto c = std::make_unique<FakeConntrack>();
          pinholes_ = p.get();
          conntrack_ = c.get();
          return std::make_unique<daemon::PinholeAdmitter>(std::move(p), std::move(c),
                                                           s.engine.idleTimeoutNs, log);
        });
    ASSERT_TRUE(worker_->open().ok());
    conn_.setAddresses(client_, server_);
    // The server is 10.0.0.9 behind DNAT.
    conntrack_->outcome = kernel::NatLookup::Natted;
    conntrack_->binding =
        core::NatBinding{client_.addr, client_.addr, server_.addr, ipFromText("10.0.0.9")};
  }
  uint32_t pasv(std::string_view reply) {
    conn_.send(Dir::C2S, "PASV\r\n");
    return conn_.send(Dir::S2C, reply);
  }
  std::string delivered(uint32_t id) {
    const std::vector<FakeQueue::Sent> v = queue_.verdictsFor(id);
    EXPECT_EQ(v.size(), 1u);
    if (v.empty()) return "";
    EXPECT_EQ(v[0].verdict, NfVerdict::Accept);
    return tcpPayload(v[0].payload.empty() ? conn_.original(id) : v[0].payload);
  }
  const daemon::WorkerStats& stats() { return worker_->stats(); }

  FakeQueue queue_;
  daemon::EventSink events_;
  FakePinholes* pinholes_ = nullptr;    // owned by the worker's admitter
  FakeConntrack* conntrack_ = nullptr;  // likewise
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};
};

TEST_F(PinholeAdmitterTest, NatFromConntrackPinholePerAdmitLiberalOncePerSession) {
  conn_.handshake();
  EXPECT_EQ(conntrack_->lookups.size(), 1u);  // asked once, after the client's SYN
  const uint32_t first = pasv("227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  EXPECT_EQ(delivered(first), "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  ASSERT_EQ(pinholes_->admitted.size(), 1u);
  EXPECT_EQ(pinholes_->admitted[0].dst, endpoint("198.19.0.2:40000"));
  EXPECT_EQ(pinholes_->admitted[0].natTo, endpoint("10.0.0.9:40000"));
  ASSERT_EQ(conntrack_->liberal.size(), 1u);
  EXPECT_EQ(conntrack_->liberal[0], flow_);
  pasv("227 Entering Passive Mode (10,0,0,9,156,65)\r\n");
  EXPECT_EQ(pinholes_->admitted.size(), 2u);
  EXPECT_EQ(conntrack_->liberal.size(), 1u);  // already marked
  EXPECT_EQ(conntrack_->lookups.size(), 1u);
  EXPECT_EQ(stats().natLookupFailures.load(), 0u);
}

TEST_F(PinholeAdmitterTest, LiberalFailureIsCountedAndRetriedAtTheNextRewrite) {
  conntrack_->liberalFailures = 1;
  conn_.handshake();
  ::testing::internal::CaptureStderr();
  const uint32_t first = pasv("227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  const std::string log = ::testing::internal::GetCapturedStderr();
  // The rewrite leaves anyway (the failure policy gives it no verdict of its own).
  EXPECT_EQ(delivered(first), "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  EXPECT_EQ(stats().liberalFailures.load(), 1u);
  EXPECT_TRUE(conntrack_->liberal.empty());
  EXPECT_NE(log.find("ftpalgd: error: queue 0: liberal tracking for "
                     "198.18.0.2:40000-198.19.0.2:21: fake: liberal flag not set: "),
            std::string::npos)
      << log;
  pasv("227 Entering Passive Mode (10,0,0,9,156,65)\r\n");
  EXPECT_EQ(conntrack_->liberal.size(), 1u);
}

TEST_F(PinholeAdmitterTest, FailedNatLookupIsCountedAndTheSessionServedAsWithoutNat) {
  conntrack_->outcome = kernel::NatLookup::Failed;
  ::testing::internal::CaptureStderr();
  conn_.handshake();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats().natLookupFailures.load(), 1u);
  EXPECT_NE(log.find("ftpalgd: warning: queue 0: NAT lookup for flow "
                     "198.18.0.2:40000-198.19.0.2:21 failed: fake: no entry: "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("; serving it as without NAT"), std::string::npos) << log;
  // As without NAT: the server's own address is admitted unrewritten.
  const uint32_t reply = pasv("227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  EXPECT_EQ(delivered(reply), "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  ASSERT_EQ(pinholes_->admitted.size(), 1u);
  EXPECT_EQ(pinholes_->admitted[0].natTo, endpoint("198.19.0.2:40000"));
  EXPECT_TRUE(conntrack_->liberal.empty());
}

TEST_F(PinholeAdmitterTest, NoNatIsNeitherCountedNorLogged) {
  conntrack_->outcome = kernel::NatLookup::NoNat;
  ::testing::internal::CaptureStderr();
  conn_.handshake();
  const uint32_t reply = pasv("227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats().natLookupFailures.load(), 0u);
  EXPECT_EQ(log.find("NAT lookup"), std::string::npos) << log;
  EXPECT_EQ(delivered(reply), "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  EXPECT_EQ(pinholes_->admitted.size(), 1u);
}

TEST_F(PinholeAdmitterTest, PinholeFailureIsNamedInTheLog) {
  pinholes_->failures = 2;
  conn_.handshake();
  ::testing::internal::CaptureStderr();
  const uint32_t reply = pasv("227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(queue_.verdictsFor(reply).at(0).verdict, NfVerdict::Drop);
  EXPECT_NE(log.find("ftpalgd: error: queue 0: pinhole for 198.18.0.2 -> 198.19.0.2:40000 failed: "
                     "fake: pinhole set full: "),
            std::string::npos)
      << log;
}

}  // namespace
// At start, a stored session whose conntrack entry is gone is not adopted.
TEST(PinholeAdmitterSessionAlive, OnlyAMissingConntrackEntryMeansGone) {
  daemon::WorkerStats stats;
  daemon::WorkerLog log(0, stats);
  auto c = std::make_unique<FakeConntrack>();
  FakeConntrack* ct = c.get();
  daemon::PinholeAdmitter a(std::make_unique<FakePinholes>(), std::move(c), 1, log);
  const core::FlowKey flow{endpoint("198.18.0.2:40000"), endpoint("10.0.0.9:21")};
  const core::NatBinding nat{flow.client.addr, flow.client.addr, ipFromText("198.19.0.2"),
                             flow.server.addr};
  ct->outcome = kernel::NatLookup::Natted;
  EXPECT_TRUE(a.sessionAlive(flow, nat));
  ASSERT_FALSE(ct->lookups.empty());
  EXPECT_EQ(ct->lookups[0], (core::FlowKey{flow.client, endpoint("198.19.0.2:21")}));
  ct->outcome = kernel::NatLookup::Failed;
  EXPECT_FALSE(a.sessionAlive(flow, nat));
}

}  // namespace ftpalg::test

// After an RST on a liberal (rewritten) session: one the engine ignored (out of window) puts the
// conntrack entry back to ESTABLISHED and keeps the liberal mark; one it accepted forgets the
// mark and restores nothing.
namespace ftpalg::test {
namespace {

class PinholeAdmitterRstTest : public ::testing::Test {
 protected:
  const core::Endpoint client_ = endpoint("198.18.0.2:40000");
  const core::Endpoint server_ = endpoint("198.19.0.2:21");

  void SetUp() override {
    daemon::WorkerSettings s;
    worker_ = std::make_unique<daemon::QueueWorker>(
        s, events_, queue_, [this, &s](daemon::WorkerLog& log) {
          auto p = std::make_unique<FakePinholes>();
          auto c = std::make_unique<FakeConntrack>();
          conntrack_ = c.get();
          return std::make_unique<daemon::PinholeAdmitter>(std::move(p), std::move(c),
                                                           s.engine.idleTimeoutNs, log);
        });
    ASSERT_TRUE(worker_->open().ok());
    conn_.setAddresses(client_, server_);
    conntrack_->outcome = kernel::NatLookup::Natted;
    conntrack_->binding =
        core::NatBinding{client_.addr, client_.addr, server_.addr, ipFromText("10.0.0.9")};
    conn_.handshake();
    conn_.send(core::Dir::C2S, "PASV\r\n");
    conn_.send(core::Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
    ASSERT_EQ(conntrack_->liberal.size(), 1u);  // rewritten: marked liberal
  }
  void pasvAgain() {
    conn_.send(core::Dir::C2S, "PASV\r\n");
    conn_.send(core::Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,65)\r\n");
  }
  static uint64_t stat(const std::atomic<uint64_t>& c) { return c.load(); }

  FakeQueue queue_;
  daemon::EventSink events_;
  FakeConntrack* conntrack_ = nullptr;  // owned by the worker's admitter
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};
};

TEST_F(PinholeAdmitterRstTest, OutOfWindowRstRestoresTheEntryAndKeepsTheMark) {
  // Blind RSTs both ways, far from either sender's position.
  conn_.send(core::Dir::S2C, "", core::TcpRst, conn_.nextSeq(core::Dir::S2C) + 0x40000000u);
  conn_.send(core::Dir::C2S, "", core::TcpRst | core::TcpAck,
             conn_.nextSeq(core::Dir::C2S) - 0x40000000u);
  ASSERT_EQ(worker_->engine().counter(core::Counter::RstOutOfWindow), 2u);
  ASSERT_EQ(conntrack_->restored.size(), 2u);                  // one UPDATE per RST
  EXPECT_EQ(conntrack_->restored[0], conntrack_->liberal[0]);  // the entry's original tuple
  EXPECT_EQ(conntrack_->restored[1], conntrack_->liberal[0]);
  EXPECT_GT(conntrack_->restoreTimeoutS, 10u);  // not the CLOSE timeout
  EXPECT_EQ(stat(worker_->stats().rstRestored), 2u);
  EXPECT_EQ(worker_->engine().sessionCount(), 1u);
  pasvAgain();
  EXPECT_EQ(conntrack_->liberal.size(), 1u);  // mark kept: not set again
}

TEST_F(PinholeAdmitterRstTest, FailedRestoreIsCountedAndKeepsTheMark) {
  conntrack_->restoreFailures = 1;
  conn_.send(core::Dir::S2C, "", core::TcpRst, conn_.nextSeq(core::Dir::S2C) + 0x40000000u);
  EXPECT_TRUE(conntrack_->restored.empty());
  EXPECT_EQ(stat(worker_->stats().restoreFailures), 1u);
  EXPECT_EQ(stat(worker_->stats().rstRestored), 0u);
  pasvAgain();
  EXPECT_EQ(conntrack_->liberal.size(), 1u);
}

TEST_F(PinholeAdmitterRstTest, InWindowRstRestoresNothingAndForgetsTheMark) {
  conn_.send(core::Dir::C2S, "", core::TcpRst | core::TcpAck);
  EXPECT_EQ(worker_->engine().counter(core::Counter::RstOutOfWindow), 0u);
  EXPECT_TRUE(conntrack_->restored.empty());
  EXPECT_EQ(stat(worker_->stats().rstRestored), 0u);
  // The tuple used again by a new connection: its first rewrite marks it afresh.
  FakeControlConnection again{queue_, [this] { worker_->serveOnce(); }};
  again.setAddresses(client_, server_);
  again.handshake();
  again.send(core::Dir::C2S, "PASV\r\n");
  again.send(core::Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,66)\r\n");
  EXPECT_EQ(conntrack_->liberal.size(), 2u);
  EXPECT_TRUE(conntrack_->restored.empty());
}

}  // namespace
}  // namespace ftpalg::test
