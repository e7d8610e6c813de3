// Expectation mode's admitter inside a worker, against a fake expectation table: packets come
// after NAT with their conntrack entry; the engine sees the original tuple, each admit is an
// expectation on that entry, and a control connection's outstanding expectations are deleted
// when it ends.
#include "daemon/expectation_admitter.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

#include "daemon/clock.h"
#include "tests/support/expectation_worker.h"
#include "tests/support/fake_kernel_backends.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using kernel::NfVerdict;

// The worker of tests/support/expectation_worker.h on the recording expectation table.
class ExpectationAdmitterTest : public ExpectationWorkerTest<FakeExpectations> {
 protected:
  const std::string pasv227_ = "227 Entering Passive Mode (10,0,0,9,156,64)\r\n";

  // Handshake, PASV, 227: one expectation.
  uint32_t passive() {
    conn_.handshake();
    conn_.send(Dir::C2S, "PASV\r\n");
    return conn_.send(Dir::S2C, pasv227_);
  }
  FakeQueue::Sent only(uint32_t id) {
    const std::vector<FakeQueue::Sent> v = queue_.verdictsFor(id);
    EXPECT_EQ(v.size(), 1u) << "verdicts for id " << id;
    return v.empty() ? FakeQueue::Sent{} : v.front();
  }
  const daemon::WorkerStats& stats() { return worker_->stats(); }
};

TEST_F(ExpectationAdmitterTest, AnnouncementBecomesOneExpectationOnThePacketsEntry) {
  const uint32_t reply = passive();
  const FakeQueue::Sent s = only(reply);
  EXPECT_EQ(s.verdict, NfVerdict::Accept);
  EXPECT_TRUE(s.withCt);
  EXPECT_EQ(tcpPayload(s.payload), "227 Entering Passive Mode (198,51,100,7,156,64)\r\n");
  ASSERT_EQ(backend_->live.size(), 1u);
  ASSERT_EQ(backend_->masters.size(), 1u);
  EXPECT_EQ(backend_->masters[0].orig, entry_.orig);
  EXPECT_EQ(backend_->masters[0].reply, entry_.reply);
  EXPECT_EQ(backend_->live[0].src.addr, client_.addr);
  EXPECT_EQ(backend_->live[0].dst, endpoint("198.51.100.7:40000"));
  EXPECT_EQ(backend_->live[0].natTo, endpoint("10.0.0.9:40000"));
  EXPECT_EQ(stats().admitted.load(), 1u);
  EXPECT_EQ(stats().noConntrack.load(), 0u);
}

TEST_F(ExpectationAdmitterTest, FinBothWaysRemovesTheOutstandingExpectations) {
  passive();
  conn_.send(Dir::C2S, "", core::TcpFin | core::TcpAck);
  EXPECT_TRUE(backend_->removed.empty());  // half closed: the data connection may still come
  conn_.send(Dir::S2C, "", core::TcpFin | core::TcpAck);
  ASSERT_EQ(backend_->removed.size(), 1u);
  EXPECT_EQ(backend_->removed[0].dst, endpoint("198.51.100.7:40000"));
  EXPECT_TRUE(backend_->live.empty());
  EXPECT_EQ(stats().expectationsRemoved.load(), 1u);
  EXPECT_EQ(stats().expectationRemoveFailures.load(), 0u);
}

TEST_F(ExpectationAdmitterTest, RstRemovesAtOnce) {
  passive();
  conn_.send(Dir::C2S, "", core::TcpRst);
  EXPECT_EQ(backend_->removed.size(), 1u);
  EXPECT_EQ(stats().expectationsRemoved.load(), 1u);
}

TEST_F(ExpectationAdmitterTest, ARepeatedAnnouncementIsRememberedOnce) {
  passive();
  conn_.send(Dir::C2S, "PASV\r\n");
  conn_.send(Dir::S2C, pasv227_);
  EXPECT_EQ(backend_->live.size(), 2u);  // the kernel replaces it; the fake keeps both
  conn_.send(Dir::C2S, "", core::TcpRst);
  EXPECT_EQ(backend_->removed.size(), 1u);
}

TEST_F(ExpectationAdmitterTest, AnExpectationAlreadyUsedIsNoFailure) {
  passive();
  backend_->use(backend_->live.at(0));  // the data connection arrived
  conn_.send(Dir::C2S, "", core::TcpRst);
  EXPECT_EQ(backend_->removed.size(), 1u);
  EXPECT_EQ(stats().expectationsRemoved.load(), 0u);
  EXPECT_EQ(stats().expectationRemoveFailures.load(), 0u);
}

TEST_F(ExpectationAdmitterTest, RemoveFailureIsCountedAndLogged) {
  passive();
  backend_->removeError = EPERM;
  ::testing::internal::CaptureStderr();
  conn_.send(Dir::C2S, "", core::TcpRst);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(stats().expectationRemoveFailures.load(), 1u);
  EXPECT_EQ(stats().expectationsRemoved.load(), 0u);
  EXPECT_NE(log.find("ftpalgd: error: queue 0: removing expectation 198.18.0.2 -> "
                     "198.51.100.7:40000 of flow 198.18.0.2:40000-198.51.100.7:21: fake: remove: "),
            std::string::npos)
      << log;
}

TEST_F(ExpectationAdmitterTest, IdleControlConnectionLosesItsExpectationsAtExpiry) {
  passive();
  worker_->expire(daemon::monotonicNs() + core::EngineConfig{}.idleTimeoutNs + 2'000'000'000);
  EXPECT_EQ(backend_->removed.size(), 1u);
  EXPECT_EQ(stats().expectationsRemoved.load(), 1u);
}

TEST_F(ExpectationAdmitterTest, AddFailureDropsTheAnnouncement) {
  backend_->addFailures = 2;  // the admit and its immediate retry
  ::testing::internal::CaptureStderr();
  const uint32_t reply = passive();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(only(reply).verdict, NfVerdict::Drop);
  EXPECT_EQ(stats().pinholeFailures.load(), 2u);
  EXPECT_NE(log.find("ftpalgd: error: queue 0: expectation for 198.18.0.2 -> 198.51.100.7:40000 "
                     "failed: fake: clashing expectation: "),
            std::string::npos)
      << log;
}

TEST_F(ExpectationAdmitterTest, PacketThatFitsNeitherDirectionOfItsEntryPassesUninspected) {
  conn_.setAddresses(client_, endpoint("192.0.2.99:21"), public_, client_);
  const uint32_t id = conn_.send(Dir::C2S, "", core::TcpSyn);
  EXPECT_EQ(only(id).verdict, NfVerdict::Accept);
  EXPECT_EQ(stats().noConntrack.load(), 1u);
}

TEST(ExpectationAdmitter, AdmitWithoutAPacketAtHandFailsClosed) {
  daemon::WorkerStats st;
  daemon::WorkerLog log(0, st);
  auto b = std::make_unique<FakeExpectations>();
  FakeExpectations* backend = b.get();
  daemon::ExpectationAdmitter admitter(std::move(b), core::EngineConfig{}, log);
  const core::Expectation x{endpoint("198.18.0.2:0"), endpoint("198.51.100.7:40000"),
                            endpoint("10.0.0.9:40000"), true};
  const Status s = admitter.admit({}, x, 1);
  EXPECT_EQ(s.err(), ENOENT);
  EXPECT_TRUE(backend->masters.empty());
}

TEST(CtEntryResolver, BindingOfTheEntryAtHandOnlyWhenNatted) {
  daemon::CtEntryResolver r;
  core::NatBinding b;
  EXPECT_FALSE(r.resolve({}, b));
  const kernel::CtEntry plain{{endpoint("198.18.0.2:40000"), endpoint("198.19.0.2:21")},
                              {endpoint("198.19.0.2:21"), endpoint("198.18.0.2:40000")}};
  r.set(&plain);
  EXPECT_FALSE(r.resolve({}, b));
  const kernel::CtEntry dnat{{endpoint("198.18.0.2:40000"), endpoint("198.51.100.7:21")},
                             {endpoint("10.0.0.9:21"), endpoint("198.18.0.2:40000")}};
  r.set(&dnat);
  ASSERT_TRUE(r.resolve({}, b));
  EXPECT_EQ(b.clientInside, endpoint("198.18.0.2:1").addr);
  EXPECT_EQ(b.serverInside, endpoint("198.51.100.7:1").addr);
  EXPECT_EQ(b.serverOutside, endpoint("10.0.0.9:1").addr);
  EXPECT_EQ(b.clientOutside, endpoint("198.18.0.2:1").addr);
}

// Expectation mode's NAT resolver hands the engine the kernel's seqadj offsets of the entry at
// hand (priorDelta, C2S = the original direction): a session a predecessor rewrote is picked
// up with the shift already in force.
TEST(CtEntryResolverPriorDelta, SeqAdjOffsetsPerEngineDirection) {
  daemon::CtEntryResolver r;
  kernel::CtEntry dnat{{endpoint("198.18.1.2:40000"), endpoint("198.18.1.10:21")},
                       {endpoint("198.19.1.2:21"), endpoint("198.18.1.2:40000")}};
  dnat.seqOffsetOrig = -4;
  dnat.seqOffsetReply = 1;
  r.set(&dnat);
  core::NatBinding b;
  ASSERT_TRUE(r.resolve({}, b));
  EXPECT_EQ(b.priorDelta[static_cast<size_t>(core::Dir::C2S)], -4);
  EXPECT_EQ(b.priorDelta[static_cast<size_t>(core::Dir::S2C)], 1);
}

}  // namespace
}  // namespace ftpalg::test
