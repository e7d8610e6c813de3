// Expectation mode's pure pieces: how an expectation must follow its master's NAT
// (planExpectNat), and reading a queued packet's conntrack nest (parseCtAttr) from attributes
// built here the way the kernel's ctnetlink_glue_build writes them.
#include "ftpalg/kernel/expectation.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::kernel;  // NOLINT(google-build-using-namespace): the unit under test
namespace {


CtEntry masquerade() {  // client 198.18.1.2 -> server 198.19.2.2, source NAT to 198.19.2.1
  CtEntry e;
  e.orig = {endpoint("198.18.1.2:40000"), endpoint("198.19.2.2:21")};
  e.reply = {endpoint("198.19.2.2:21"), endpoint("198.19.2.1:40000")};
  return e;
}

CtEntry dnat() {  // client dials 198.18.100.1, which forwards to 198.19.2.2
  CtEntry e;
  e.orig = {endpoint("198.18.1.2:40000"), endpoint("198.18.100.1:21")};
  e.reply = {endpoint("198.19.2.2:21"), endpoint("198.18.1.2:40000")};
  return e;
}

TEST(PlanExpectNat, NoNatNeedsNone) {
  CtEntry e;
  e.orig = {endpoint("198.18.1.2:40000"), endpoint("198.19.2.2:21")};
  e.reply = {endpoint("198.19.2.2:21"), endpoint("198.18.1.2:40000")};
  core::Expectation x{endpoint("198.18.1.2:0"), endpoint("198.19.2.2:40001"),
                      endpoint("198.19.2.2:40001"), true};
  EXPECT_FALSE(e.natted());
  EXPECT_FALSE(planExpectNat(e, x).needed);
}

TEST(PlanExpectNat, PassiveThroughDnatFollowsOriginalToTheServer) {
  const CtEntry e = dnat();
  core::Expectation x{endpoint("198.18.1.2:0"), endpoint("198.18.100.1:40001"),
                      endpoint("198.19.2.2:40001"), true};
  const ExpectNatPlan p = planExpectNat(e, x);
  EXPECT_TRUE(p.needed);
  EXPECT_EQ(p.dir, ExpectDir::Original);
  EXPECT_EQ(p.natAddr, ipFromText("198.19.2.2"));
}

TEST(PlanExpectNat, ActiveThroughMasqueradeFollowsReplyToTheClient) {
  const CtEntry e = masquerade();
  core::Expectation x{endpoint("198.19.2.2:0"), endpoint("198.19.2.1:50000"),
                      endpoint("198.18.1.2:50000"), true};
  const ExpectNatPlan p = planExpectNat(e, x);
  EXPECT_TRUE(p.needed);
  EXPECT_EQ(p.dir, ExpectDir::Reply);
  EXPECT_EQ(p.natAddr, ipFromText("198.18.1.2"));
  EXPECT_EQ(p.srcAddr, ipFromText("198.19.2.2"));  // the server keeps its address
}

// follow-master also maps the data connection's source: the server behind DNAT leaves from
// the address the client dialled (what the policy's srcNatTo asks for in pinhole mode).
TEST(PlanExpectNat, ActiveThroughDnatMapsTheSourceToTheDialledAddress) {
  const CtEntry e = dnat();
  core::Expectation x{endpoint("198.19.2.2:0"), endpoint("198.18.1.2:50000"),
                      endpoint("198.18.1.2:50000"), true};
  const ExpectNatPlan p = planExpectNat(e, x);
  EXPECT_TRUE(p.needed);
  EXPECT_EQ(p.dir, ExpectDir::Reply);
  EXPECT_EQ(p.natAddr, ipFromText("198.18.1.2"));
  EXPECT_EQ(p.srcAddr, ipFromText("198.18.100.1"));
}

TEST(PlanExpectNat, PassiveThroughMasqueradeMapsTheSourceToThePublicAddress) {
  const CtEntry e = masquerade();
  core::Expectation x{endpoint("198.18.1.2:0"), endpoint("198.19.2.2:40001"),
                      endpoint("198.19.2.2:40001"), true};
  const ExpectNatPlan p = planExpectNat(e, x);
  EXPECT_EQ(p.dir, ExpectDir::Original);
  EXPECT_EQ(p.srcAddr, ipFromText("198.19.2.1"));
}

// CTA_TUPLE_xxx { CTA_TUPLE_IP { src, dst }, CTA_TUPLE_PROTO { num, sport, dport } }
void putTuple(nlmsghdr* nlh, uint16_t type, const core::Endpoint& s, const core::Endpoint& d) {
  const bool v4 = s.addr.family == core::Family::V4;
  nlattr* t = mnl_attr_nest_start(nlh, type);
  nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
  mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, v4 ? 4 : 16, s.addr.bytes.data());
  mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, v4 ? 4 : 16, d.addr.bytes.data());
  mnl_attr_nest_end(nlh, ip);
  nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_TCP);
  mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(s.port));
  mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(d.port));
  mnl_attr_nest_end(nlh, proto);
  mnl_attr_nest_end(nlh, t);
}

// The NFQA_CT nest's payload for `e`.
std::vector<uint8_t> ctNest(const CtEntry& e, bool withReply = true) {
  std::array<char, 1024> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlattr* nest = mnl_attr_nest_start(nlh, 1);
  putTuple(nlh, CTA_TUPLE_ORIG, e.orig.src, e.orig.dst);
  if (withReply) putTuple(nlh, CTA_TUPLE_REPLY, e.reply.src, e.reply.dst);
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(0x8));
  mnl_attr_nest_end(nlh, nest);
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(nest));
  return std::vector<uint8_t>(p, p + mnl_attr_get_payload_len(nest));
}

TEST(ParseCtAttr, ReadsBothTuplesV4) {
  const CtEntry want = dnat();
  CtEntry got;
  ASSERT_TRUE(parseCtAttr(ctNest(want), core::Family::V4, got));
  EXPECT_EQ(got.orig, want.orig);
  EXPECT_EQ(got.reply, want.reply);
  EXPECT_TRUE(got.natted());
}

TEST(ParseCtAttr, ReadsBothTuplesV6) {
  CtEntry want;
  want.orig = {endpoint("[2001:db8:1::2]:40000"), endpoint("[2001:db8:2::2]:21")};
  want.reply = {endpoint("[2001:db8:2::2]:21"), endpoint("[2001:db8:2::1]:40000")};
  CtEntry got;
  ASSERT_TRUE(parseCtAttr(ctNest(want), core::Family::V6, got));
  EXPECT_EQ(got.orig, want.orig);
  EXPECT_EQ(got.reply, want.reply);
}

TEST(ParseCtAttr, RefusesMissingReplyTupleAndEmptyNest) {
  CtEntry got;
  EXPECT_FALSE(parseCtAttr(ctNest(dnat(), false), core::Family::V4, got));
  EXPECT_FALSE(parseCtAttr({}, core::Family::V4, got));
}

}  // namespace
}  // namespace ftpalg::test
