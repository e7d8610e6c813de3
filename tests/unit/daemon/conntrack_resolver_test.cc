// Pinhole mode's NAT resolver: a new session's binding comes from the conntrack entry its packet
// carries (NFQA_CT) without asking the kernel, else from one GET by the entry's original tuple;
// never from a scan of the table (the backend offers none).
#include "daemon/conntrack_resolver.h"

#include <gtest/gtest.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include <memory>
#include <string>

#include "daemon/pinhole_admitter.h"
#include "daemon/queue_worker.h"
#include "daemon/worker_stats.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_ct_nest.h"
#include "tests/support/fake_kernel_backends.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using ftpalg::test::endpoint;
using ftpalg::test::ipFromText;

// The NFQA_CT payload of `e` with CTA_STATUS `status`.
std::vector<uint8_t> ctNest(const kernel::CtEntry& e, uint32_t status) {
  std::array<char, 1024> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlattr* nest = mnl_attr_nest_start(nlh, 1);
  putCtTuple(nlh, CTA_TUPLE_ORIG, e.orig.src, e.orig.dst);
  putCtTuple(nlh, CTA_TUPLE_REPLY, e.reply.src, e.reply.dst);
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
  mnl_attr_nest_end(nlh, nest);
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(nest));
  return std::vector<uint8_t>(p, p + mnl_attr_get_payload_len(nest));
}

// Client 10.1.0.5 behind SNAT (203.0.113.1) dials 198.51.100.7:21, which DNAT sends to
// 10.0.0.9:21. The forward hook sees 10.1.0.5 -> 10.0.0.9.
class ConntrackResolverTest : public ::testing::Test {
 protected:
  const core::Endpoint client_ = endpoint("10.1.0.5:40000");
  const core::Endpoint dialled_ = endpoint("198.51.100.7:21");
  const core::Endpoint server_ = endpoint("10.0.0.9:21");
  const core::Endpoint snat_ = endpoint("203.0.113.1:61000");
  const core::FlowKey flow_{client_, server_};
  const kernel::CtEntry entry_{{client_, dialled_}, {server_, snat_}};

  daemon::WorkerStats stats_;
  daemon::WorkerLog log_{0, stats_};
  FakeConntrack conntrack_;
  daemon::ConntrackResolver resolver_{conntrack_, log_};
};

TEST_F(ConntrackResolverTest, ConfirmedEntryOfThePacketGivesTheBindingWithoutAKernelQuery) {
  const std::vector<uint8_t> ct = ctNest(entry_, IPS_CONFIRMED | IPS_SRC_NAT | IPS_DST_NAT);
  resolver_.setPacket(ct, core::Family::V4);
  core::NatBinding b;
  ASSERT_TRUE(resolver_.resolve(flow_, b));
  EXPECT_TRUE(conntrack_.lookups.empty());
  EXPECT_EQ(b.clientInside, client_.addr);
  EXPECT_EQ(b.clientOutside, snat_.addr);
  EXPECT_EQ(b.serverInside, dialled_.addr);
  EXPECT_EQ(b.serverOutside, server_.addr);
  EXPECT_EQ(stats_.natLookupFailures.load(), 0u);
}

TEST_F(ConntrackResolverTest, UnconfirmedEntryIsLookedUpOnceByItsOriginalTuple) {
  // The reply tuple of an unconfirmed entry does not show source NAT yet: ask the kernel, by
  // the tuple the client dialled (not the flow's server, which is after DNAT).
  const std::vector<uint8_t> ct = ctNest(entry_, 0);
  resolver_.setPacket(ct, core::Family::V4);
  conntrack_.outcome = kernel::NatLookup::Natted;
  core::NatBinding b;
  EXPECT_TRUE(resolver_.resolve(flow_, b));
  ASSERT_EQ(conntrack_.lookups.size(), 1u);
  EXPECT_EQ(conntrack_.lookups[0], (core::FlowKey{client_, dialled_}));
}

TEST_F(ConntrackResolverTest, WithoutThePacketsEntryOneGetOfClientToServer) {
  resolver_.clearPacket();
  conntrack_.outcome = kernel::NatLookup::Failed;
  core::NatBinding b;
  EXPECT_FALSE(resolver_.resolve(flow_, b));
  ASSERT_EQ(conntrack_.lookups.size(), 1u);
  EXPECT_EQ(conntrack_.lookups[0], flow_);
  EXPECT_EQ(stats_.natLookupFailures.load(), 1u);
}

TEST_F(ConntrackResolverTest, WithTheEntryAtHandAMissIsNotFollowedByAScan) {
  const std::vector<uint8_t> ct = ctNest(entry_, 0);
  resolver_.setPacket(ct, core::Family::V4);
  conntrack_.outcome = kernel::NatLookup::Failed;
  core::NatBinding b;
  EXPECT_FALSE(resolver_.resolve(flow_, b));
  EXPECT_TRUE(conntrack_.scans.empty());
}

TEST_F(ConntrackResolverTest, QueueWithoutEntriesScansForDnatWithinItsBudget) {
  // A kernel without the NFQUEUE conntrack glue: a DNATed session is only found by a scan.
  resolver_.clearPacket();
  conntrack_.outcome = kernel::NatLookup::Failed;
  conntrack_.scanOutcome = kernel::NatLookup::Natted;
  conntrack_.scanOrig = kernel::CtTuple{client_, dialled_};
  core::NatBinding b;
  EXPECT_TRUE(resolver_.resolve(flow_, b));
  ASSERT_EQ(conntrack_.scans.size(), 1u);
  EXPECT_EQ(conntrack_.scans[0], flow_);
  // Liberal tracking must name the entry the scan found, not client -> server.
  EXPECT_EQ(resolver_.originalTuple(flow_), (kernel::CtTuple{client_, dialled_}));
  // Scans of 60 ms each, back to back (junk flows): the 200 ms burst allows four, then the
  // credit refills at a fifth of the elapsed time only.
  conntrack_.scanCost = std::chrono::milliseconds(60);
  conntrack_.scanOutcome = kernel::NatLookup::Failed;
  for (int i = 0; i < 10; ++i) (void)resolver_.resolve(flow_, b);
  EXPECT_LE(conntrack_.scans.size(), 6u);
  EXPECT_GE(conntrack_.scans.size(), 4u);
  EXPECT_EQ(stats_.natLookupFailures.load(), 10u);
}

// Without NFQA_CT, a port published on one of the gateway's own addresses is found by a GET
// with that address as the dialled destination: no scan, so a burst of new sessions (or junk
// that spent the scans) does not leave legitimate DNATed sessions without their binding.
TEST_F(ConntrackResolverTest, QueueWithoutEntriesTriesTheGatewaysAddressesBeforeAScan) {
  daemon::ConntrackResolver resolver(conntrack_, log_, [&] {
    return std::vector<core::IpAddr>{ipFromText("192.0.2.1"), ipFromText("2001:db8::1"),
                                     dialled_.addr};
  });
  resolver.clearPacket();
  conntrack_.outcome = kernel::NatLookup::Natted;
  conntrack_.onlyDst = dialled_;
  conntrack_.binding = core::NatBinding{client_.addr, snat_.addr, dialled_.addr, server_.addr};
  core::NatBinding b;
  EXPECT_TRUE(resolver.resolve(flow_, b));
  ASSERT_EQ(conntrack_.lookups.size(), 3u);  // client -> server, 192.0.2.1, then the dialled one
  EXPECT_EQ(conntrack_.lookups[0], flow_);
  EXPECT_EQ(conntrack_.lookups[1], (core::FlowKey{client_, endpoint("192.0.2.1:21")}));
  EXPECT_EQ(conntrack_.lookups[2], (core::FlowKey{client_, dialled_}));
  EXPECT_TRUE(conntrack_.scans.empty());
  EXPECT_EQ(b.serverInside, dialled_.addr);
  EXPECT_EQ(resolver.originalTuple(flow_), (kernel::CtTuple{client_, dialled_}));
  EXPECT_EQ(stats_.natLookupFailures.load(), 0u);
  // An entry that DNATs elsewhere is not this flow's: on to the (rationed) scan.
  conntrack_.binding.serverOutside = ipFromText("10.0.0.10");
  EXPECT_FALSE(resolver.resolve(core::FlowKey{endpoint("10.1.0.5:40001"), server_}, b));
  EXPECT_EQ(conntrack_.scans.size(), 1u);
}

TEST_F(ConntrackResolverTest, EntryOfAnotherConnectionIsNotTaken) {
  const kernel::CtEntry other{{endpoint("10.1.0.6:40000"), dialled_}, {server_, snat_}};
  const std::vector<uint8_t> ct = ctNest(other, IPS_CONFIRMED);
  resolver_.setPacket(ct, core::Family::V4);
  core::NatBinding b;
  (void)resolver_.resolve(flow_, b);
  ASSERT_EQ(conntrack_.lookups.size(), 1u);
  EXPECT_EQ(conntrack_.lookups[0], flow_);
}

TEST_F(ConntrackResolverTest, OriginalTupleComesFromThePacketsEntry) {
  const std::vector<uint8_t> ct = ctNest(entry_, IPS_CONFIRMED);
  resolver_.setPacket(ct, core::Family::V4);
  EXPECT_EQ(resolver_.originalTuple(flow_), (kernel::CtTuple{client_, dialled_}));
  resolver_.clearPacket();
  EXPECT_EQ(resolver_.originalTuple(flow_), (kernel::CtTuple{client_, server_}));
}

// In a worker: a session behind SNAT and DNAT is resolved from its packets' entry, the 227 is
// rewritten with it, and liberal tracking names the entry by its original tuple.
TEST(ConntrackResolverWorkerTest, SessionResolvedFromThePacketsEntryNoLookup) {
  const core::Endpoint client = endpoint("10.1.0.5:40000");
  const core::Endpoint dialled = endpoint("198.51.100.7:21");
  const core::Endpoint server = endpoint("10.0.0.9:21");
  const kernel::CtEntry entry{{client, dialled}, {server, endpoint("203.0.113.1:61000")}};
  FakeQueue queue;
  daemon::EventSink events;
  FakeConntrack* conntrack = nullptr;
  FakePinholes* pinholes = nullptr;
  daemon::WorkerSettings s;
  daemon::QueueWorker worker(s, events, queue, [&](daemon::WorkerLog& log) {
    auto p = std::make_unique<FakePinholes>();
    auto c = std::make_unique<FakeConntrack>();
    pinholes = p.get();
    conntrack = c.get();
    return std::make_unique<daemon::PinholeAdmitter>(std::move(p), std::move(c),
                                                     s.engine.idleTimeoutNs, log);
  });
  ASSERT_TRUE(worker.open().ok());
  FakeControlConnection conn(queue, [&] { worker.serveOnce(); });
  conn.setAddresses(client, server);
  conn.setCt(fakeCtNest(entry));  // CTA_STATUS: confirmed
  conn.handshake();
  conn.send(Dir::C2S, "PASV\r\n");
  const uint32_t reply = conn.send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,64)\r\n");
  EXPECT_TRUE(conntrack->lookups.empty());
  const std::vector<FakeQueue::Sent> v = queue.verdictsFor(reply);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(tcpPayload(v[0].payload), "227 Entering Passive Mode (198,51,100,7,156,64)\r\n");
  ASSERT_EQ(pinholes->admitted.size(), 1u);
  ASSERT_EQ(conntrack->liberal.size(), 1u);
  EXPECT_EQ(conntrack->liberal[0], (core::FlowKey{client, dialled}));
  EXPECT_EQ(worker.stats().natLookupFailures.load(), 0u);
}

}  // namespace
}  // namespace ftpalg::test
