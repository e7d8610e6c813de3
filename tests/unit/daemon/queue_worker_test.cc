// The queue worker against a fake queue and a fake admitter: FTP conversations fed packet by
// packet through the receive -> engine -> verdict loop, checking verdicts, rewritten bytes,
// admits, held packets and the failure policy's verdicts and counters.
#include "daemon/queue_worker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/failure_policy.h"
#include "ftpalg/core/packet.h"
#include "tests/support/fake_admitter.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using core::Endpoint;
using daemon::Failure;
using daemon::failureRule;
using daemon::FailVerdict;
using kernel::NfVerdict;

// The kernel verdict a failure policy row gives the packet concerned.
NfVerdict nfVerdictOf(Failure f) {
  return failureRule(f).verdict == FailVerdict::Drop ? NfVerdict::Drop : NfVerdict::Accept;
}

// One worker fed by a FakeQueue, admitting through a FakeAdmitter: a client and a server
// talking over one control connection.
class WorkerTest : public ::testing::Test {
 protected:
  const Endpoint client_ = endpoint("198.18.0.2:40000");
  const Endpoint server_ = endpoint("198.19.0.2:21");

  void build(bool expectationMode = false, size_t heldCapacity = 16) {
    daemon::WorkerSettings s;
    s.heldCapacity = heldCapacity;
    if (expectationMode) {
      s.expectationMode = true;
      s.queue.conntrack = true;
      s.engine.kernelSeqAdjust = true;
    }
    // The mode is the admitter's from its construction on (the worker reads its names then).
    worker_ = std::make_unique<daemon::QueueWorker>(s, events_, queue_,
                                                    [this, expectationMode](daemon::WorkerLog&) {
                                                      auto a = std::make_unique<FakeAdmitter>();
                                                      a->expectationMode = expectationMode;
                                                      admitter_ = a.get();
                                                      return a;
                                                    });
    ASSERT_TRUE(worker_->open().ok());
    conn_.setAddresses(client_, server_);
  }
  // The server is at 10.0.0.9 behind DNAT (the engine sees 198.19.0.2).
  void dnatServer() {
    admitter_->nat.enabled = true;
    admitter_->nat.binding =
        core::NatBinding{client_.addr, client_.addr, server_.addr, ipFromText("10.0.0.9")};
  }
  // The client is behind SNAT to 198.51.100.7.
  void snatClient() {
    admitter_->nat.enabled = true;
    admitter_->nat.binding =
        core::NatBinding{client_.addr, ipFromText("198.51.100.7"), server_.addr, server_.addr};
  }

  uint32_t send(Dir d, std::string_view payload, uint8_t flags = core::TcpAck | core::TcpPsh,
                std::optional<uint32_t> seq = std::nullopt) {
    conn_.setCt(withCt_ ? std::vector<uint8_t>{1, 2, 3, 4} : std::vector<uint8_t>{});
    return conn_.send(d, payload, flags, seq);
  }
  void handshake() {
    conn_.setCt(withCt_ ? std::vector<uint8_t>{1, 2, 3, 4} : std::vector<uint8_t>{});
    conn_.handshake();
  }

  // The one verdict of `id`.
  FakeQueue::Sent only(uint32_t id) {
    const std::vector<FakeQueue::Sent> v = queue_.verdictsFor(id);
    EXPECT_EQ(v.size(), 1u) << "verdicts for id " << id;
    return v.empty() ? FakeQueue::Sent{} : v.front();
  }
  // The TCP payload packet `id` leaves with (its replacement bytes, or its own).
  std::string delivered(uint32_t id) {
    const FakeQueue::Sent s = only(id);
    EXPECT_EQ(s.verdict, NfVerdict::Accept) << "id " << id;
    return tcpPayload(s.payload.empty() ? conn_.original(id) : s.payload);
  }
  uint64_t stat(const std::atomic<uint64_t>& c) { return c.load(); }

  FakeQueue queue_;
  FakeAdmitter* admitter_ = nullptr;  // owned by the worker
  daemon::EventSink events_;
  std::unique_ptr<daemon::QueueWorker> worker_;
  FakeControlConnection conn_{queue_, [this] { worker_->serveOnce(); }};
  bool withCt_ = false;
};

TEST_F(WorkerTest, PasvConversationRewritesThe227AndAdmitsOnce) {
  build();
  dnatServer();
  ::testing::internal::CaptureStderr();
  handshake();
  const uint32_t pasv = send(Dir::C2S, "PASV\r\n");
  const uint32_t reply = send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  const std::string log = ::testing::internal::GetCapturedStderr();

  for (uint32_t id = 1; id <= 4; ++id) {
    EXPECT_EQ(only(id).verdict, NfVerdict::Accept) << id;
    EXPECT_TRUE(only(id).payload.empty()) << id;
  }
  EXPECT_EQ(delivered(pasv), "PASV\r\n");
  EXPECT_EQ(delivered(reply), "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  EXPECT_FALSE(only(reply).withCt);  // pinhole mode: userspace sequence adjustment

  ASSERT_EQ(admitter_->admits.size(), 1u);
  const FakeAdmitter::Admit& a = admitter_->admits[0];
  EXPECT_EQ(a.flow, (core::FlowKey{client_, server_}));
  EXPECT_EQ(a.expect.src.addr, client_.addr);
  EXPECT_EQ(a.expect.dst, endpoint("198.19.0.2:40000"));
  EXPECT_EQ(a.expect.natTo, endpoint("10.0.0.9:40000"));
  ASSERT_EQ(admitter_->rewrittenFlows.size(), 1u);
  EXPECT_EQ(admitter_->rewrittenFlows[0], (core::FlowKey{client_, server_}));

  const daemon::WorkerStats& st = worker_->stats();
  EXPECT_EQ(stat(st.packets), 6u);
  EXPECT_EQ(stat(st.admitted), 1u);
  EXPECT_EQ(stat(st.rewritten), 1u);
  EXPECT_EQ(stat(st.dropped), 0u);
  EXPECT_EQ(stat(st.pinholeFailures), 0u);
  EXPECT_EQ(admitter_->begins, 6);
  EXPECT_EQ(admitter_->ends, 6);
  EXPECT_EQ(admitter_->lastDir, Dir::S2C);
  EXPECT_NE(log.find("ftpalgd: info: queue 0: admit pasv227 10.0.0.9:40000 -> "
                     "198.19.0.2:40000 (rewritten) pinhole 198.18.0.2:any -> 198.19.0.2:40000 "
                     "nat-to 10.0.0.9:40000 flow 198.18.0.2:40000-198.19.0.2:21"),
            std::string::npos)
      << log;
}

TEST_F(WorkerTest, LaterPacketsOfARewrittenSessionAreShifted) {
  build();
  dnatServer();
  handshake();
  send(Dir::C2S, "PASV\r\n");
  send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  const uint32_t next = send(Dir::S2C, "150 ok\r\n");
  // Two bytes longer than the original announcement: the next segment's sequence number moves.
  const FakeQueue::Sent s = only(next);
  ASSERT_FALSE(s.payload.empty());
  const core::PacketParse pp = core::parsePacket(s.payload);
  ASSERT_EQ(pp.error, core::PacketError::None);
  const core::PacketParse orig = core::parsePacket(conn_.original(next));
  EXPECT_EQ(pp.view.seq, orig.view.seq + 2);
  EXPECT_EQ(tcpPayload(s.payload), "150 ok\r\n");
}

TEST_F(WorkerTest, AdmitFailureGetsThePolicyVerdictAndTheRetryInstallsIt) {
  build();
  dnatServer();
  handshake();
  send(Dir::C2S, "PASV\r\n");
  admitter_->failAdmits = 1;
  const std::string line = "227 Entering Passive Mode (10,0,0,9,156,64)\r\n";
  const uint32_t seq = conn_.nextSeq(Dir::S2C);
  ::testing::internal::CaptureStderr();
  const uint32_t first = send(Dir::S2C, line);
  const std::string log = ::testing::internal::GetCapturedStderr();
  // The announcement is dropped; the failed admit is retried at once for the packet's flow
  // (and succeeds here), but the line the client saw first must not have left without it.
  EXPECT_EQ(only(first).verdict, nfVerdictOf(Failure::AdmitFailed));
  EXPECT_EQ(only(first).verdict, NfVerdict::Drop);
  EXPECT_EQ(worker_->stats().pinholeFailures.load(), 1u);
  EXPECT_EQ(worker_->stats().dropped.load(), 1u);
  EXPECT_EQ(admitter_->admitCalls, 2);
  ASSERT_EQ(admitter_->admits.size(), 1u);
  EXPECT_EQ(admitter_->admits[0].expect.dst, endpoint("198.19.0.2:40000"));
  EXPECT_NE(log.find("ftpalgd: error: queue 0: pinhole for 198.18.0.2 -> 198.19.0.2:40000 "
                     "failed: fake: admit: "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("ftpalgd: info: queue 0: pinhole for 198.19.0.2:40000 installed on retry"),
            std::string::npos)
      << log;

  // The server retransmits; the engine rewrites it from its history, the admit is in place.
  const uint32_t again = send(Dir::S2C, line, core::TcpAck | core::TcpPsh, seq);
  EXPECT_EQ(delivered(again), "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  EXPECT_EQ(admitter_->admitCalls, 2);
  EXPECT_EQ(worker_->stats().admitted.load(), 1u);
  EXPECT_EQ(worker_->stats().pinholeFailures.load(), 1u);
}

TEST_F(WorkerTest, AdmitRetryFailureKeepsDroppingTheRetransmission) {
  build();
  dnatServer();
  handshake();
  send(Dir::C2S, "PASV\r\n");
  admitter_->failAdmits = 3;  // the admit, its immediate retry, the retry at the retransmission
  const std::string line = "227 Entering Passive Mode (10,0,0,9,156,64)\r\n";
  const uint32_t seq = conn_.nextSeq(Dir::S2C);
  ::testing::internal::CaptureStderr();
  const uint32_t first = send(Dir::S2C, line);
  EXPECT_EQ(only(first).verdict, NfVerdict::Drop);
  EXPECT_EQ(worker_->stats().pinholeFailures.load(), 2u);
  const uint32_t again = send(Dir::S2C, line, core::TcpAck | core::TcpPsh, seq);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(only(again).verdict, nfVerdictOf(Failure::AdmitRetryFailed));
  EXPECT_EQ(only(again).verdict, NfVerdict::Drop);
  EXPECT_EQ(worker_->stats().pinholeFailures.load(), 3u);
  EXPECT_TRUE(admitter_->admits.empty());
  EXPECT_NE(log.find("ftpalgd: error: queue 0: pinhole retry for 198.19.0.2:40000 failed: fake: "
                     "admit: "),
            std::string::npos)
      << log;
  // The next retransmission's retry succeeds: the line leaves rewritten.
  const uint32_t third = send(Dir::S2C, line, core::TcpAck | core::TcpPsh, seq);
  EXPECT_EQ(delivered(third), "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  ASSERT_EQ(admitter_->admits.size(), 1u);
  EXPECT_EQ(worker_->stats().admitted.load(), 1u);
}

TEST_F(WorkerTest, ExpectationModeServesPacketsWithTheirConntrackEntry) {
  build(/*expectationMode=*/true);
  dnatServer();
  withCt_ = true;
  ::testing::internal::CaptureStderr();
  handshake();
  send(Dir::C2S, "PASV\r\n");
  const uint32_t reply = send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  const std::string log = ::testing::internal::GetCapturedStderr();
  // The new payload goes with NFQA_CT so that the kernel records the length change in seqadj.
  const FakeQueue::Sent s = only(reply);
  EXPECT_EQ(s.verdict, NfVerdict::Accept);
  EXPECT_TRUE(s.withCt);
  EXPECT_EQ(tcpPayload(s.payload), "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  EXPECT_FALSE(only(1).withCt);  // unchanged packets need no nest
  ASSERT_EQ(admitter_->admits.size(), 1u);
  EXPECT_EQ(admitter_->admits[0].expect.natTo, endpoint("10.0.0.9:40000"));
  EXPECT_NE(log.find(" expect 198.18.0.2:any -> 198.19.0.2:40000 nat-to 10.0.0.9:40000"),
            std::string::npos)
      << log;
  // The kernel adjusts sequence numbers: a later packet keeps its own.
  const uint32_t next = send(Dir::S2C, "150 ok\r\n");
  EXPECT_EQ(only(next).verdict, NfVerdict::Accept);
  EXPECT_TRUE(only(next).payload.empty());
}

TEST_F(WorkerTest, ExpectationModePacketWithoutConntrackEntryIsAcceptedAndCounted) {
  build(/*expectationMode=*/true);
  withCt_ = false;
  ::testing::internal::CaptureStderr();
  const uint32_t id = send(Dir::C2S, "", core::TcpSyn);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(only(id).verdict, nfVerdictOf(Failure::NoConntrack));
  EXPECT_EQ(only(id).verdict, NfVerdict::Accept);
  EXPECT_EQ(worker_->stats().noConntrack.load(), 1u);
  EXPECT_EQ(admitter_->ends, 0);
  EXPECT_NE(log.find("ftpalgd: warning: queue 0: packet id 1 without a usable conntrack entry (0 "
                     "bytes of NFQA_CT), accepted"),
            std::string::npos)
      << log;
}

TEST_F(WorkerTest, UnparsablePacketIsAcceptedAndCounted) {
  build();
  queue_.push(7, {0x45, 0x00, 0x00});
  worker_->serveOnce();
  EXPECT_EQ(only(7).verdict, nfVerdictOf(Failure::ParseError));
  EXPECT_EQ(worker_->stats().parseErrors.load(), 1u);
  EXPECT_EQ(admitter_->begins, 0);
}

TEST_F(WorkerTest, NonControlTrafficIsAcceptedUninspected) {
  build();
  queue_.push(9,
              PacketBuilder().v4(client_, endpoint("198.19.0.2:80")).payload("GET /\r\n").build());
  worker_->serveOnce();
  EXPECT_EQ(only(9).verdict, NfVerdict::Accept);
  EXPECT_EQ(worker_->stats().nonControl.load(), 1u);
  EXPECT_EQ(admitter_->begins, 0);
}

TEST_F(WorkerTest, EngineDropOfASegmentBeyondAGap) {
  build();
  handshake();
  const uint32_t id =
      send(Dir::C2S, "NOOP\r\n", core::TcpAck | core::TcpPsh, conn_.nextSeq(Dir::C2S) + 100);
  EXPECT_EQ(only(id).verdict, NfVerdict::Drop);
  EXPECT_EQ(worker_->stats().dropped.load(), 1u);
}

TEST_F(WorkerTest, HeldPartialLineIsReleasedRewrittenThroughTheHeldPool) {
  build();
  snatClient();
  handshake();
  const uint32_t head = send(Dir::C2S, "PORT 198,18,0");
  EXPECT_TRUE(queue_.verdictsFor(head).empty());  // held: no verdict yet
  EXPECT_EQ(worker_->stats().held.load(), 1u);
  const uint32_t tail = send(Dir::C2S, ",2,195,80\r\n");
  EXPECT_EQ(worker_->stats().held.load(), 0u);
  // Every packet got exactly one verdict; what was forwarded is the rewritten line.
  std::string forwarded;
  for (uint32_t id : {head, tail}) {
    const FakeQueue::Sent s = only(id);
    if (s.verdict == NfVerdict::Accept) forwarded += delivered(id);
  }
  EXPECT_EQ(forwarded, "PORT 198,51,100,7,195,80\r\n");
  ASSERT_EQ(admitter_->admits.size(), 1u);
  EXPECT_EQ(worker_->stats().unknownHandles.load(), 0u);
}

TEST_F(WorkerTest, FullHeldPoolDropsThePacketAndItsReleaseIsAnUnknownHandle) {
  build(false, /*heldCapacity=*/0);
  snatClient();
  handshake();
  const uint32_t head = send(Dir::C2S, "PORT 198,18,0");
  EXPECT_EQ(only(head).verdict, nfVerdictOf(Failure::PoolFull));
  EXPECT_EQ(only(head).verdict, NfVerdict::Drop);
  EXPECT_EQ(worker_->stats().poolFull.load(), 1u);
  // The engine still holds it and releases it with the rest of the line: the worker has no
  // copy, and the packet already has its verdict (UnknownHandle gives none).
  send(Dir::C2S, ",2,195,80\r\n");
  EXPECT_EQ(worker_->stats().unknownHandles.load(), 1u);
  EXPECT_EQ(queue_.verdictsFor(head).size(), 1u);
  EXPECT_EQ(failureRule(Failure::UnknownHandle).verdict, FailVerdict::Unchanged);
}

TEST_F(WorkerTest, ShutdownDropsHeldPackets) {
  build();
  snatClient();
  handshake();
  const uint32_t head = send(Dir::C2S, "PORT 198,18,0");
  ASSERT_TRUE(queue_.verdictsFor(head).empty());
  worker_->shutdown();
  EXPECT_EQ(only(head).verdict, nfVerdictOf(Failure::ShutdownHeld));
  EXPECT_EQ(only(head).verdict, NfVerdict::Drop);
  EXPECT_EQ(worker_->stats().held.load(), 0u);
}

TEST_F(WorkerTest, QueueErrorsAreLoggedAndServingGoesOn) {
  build();
  ::testing::internal::CaptureStderr();
  queue_.receiveFailures = 1;
  worker_->serveOnce();
  queue_.verdictFailures = 1;
  const uint32_t lost = send(Dir::C2S, "", core::TcpSyn);
  queue_.flushFailures = 1;
  send(Dir::S2C, "", core::TcpSyn | core::TcpAck);
  const uint32_t ok = send(Dir::C2S, "", core::TcpAck);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(queue_.verdictsFor(lost).empty());
  EXPECT_EQ(only(ok).verdict, NfVerdict::Accept);
  EXPECT_NE(log.find("ftpalgd: error: queue 0: fake: receive: "), std::string::npos) << log;
  EXPECT_NE(log.find("ftpalgd: error: queue 0: fake: verdict: "), std::string::npos) << log;
  EXPECT_NE(log.find("ftpalgd: error: queue 0: fake: flush: "), std::string::npos) << log;
}

TEST_F(WorkerTest, ExpiryReachesTheAdmitter) {
  build();
  worker_->serveOnce();  // the first round expires at once
  EXPECT_EQ(admitter_->expires, 1);
  worker_->expire(1);
  EXPECT_EQ(admitter_->expires, 2);
}

TEST_F(WorkerTest, EventsAreWrittenAsJsonLines) {
  char path[] = "/tmp/ftpalg_worker_events_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_TRUE(events_.open(path).ok());
  build();
  dnatServer();
  handshake();
  send(Dir::C2S, "PASV\r\n");
  send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  events_.close();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path);
  EXPECT_NE(text.str().find("pasv227"), std::string::npos) << text.str();
  EXPECT_EQ(text.str().back(), '\n');
}

}  // namespace
}  // namespace ftpalg::test
