// Expectation mode's pure pieces: how an expectation must follow its master's NAT
// (planExpectNat), and reading a queued packet's conntrack nest (parseCtAttr) from attributes
// built the way the kernel's ctnetlink_glue_build writes them (tests/support/fake_ct_nest.h).
#include "ftpalg/kernel/expectation.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/support/fake_ct_nest.h"
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

enum class Master { NoNat, Dnat, Masquerade };

CtEntry master(Master m) {
  switch (m) {
    case Master::Dnat:
      return dnat();
    case Master::Masquerade:
      return masquerade();
    case Master::NoNat:
      break;
  }
  CtEntry e;  // client 198.18.1.2 -> server 198.19.2.2, no NAT
  e.orig = {endpoint("198.18.1.2:40000"), endpoint("198.19.2.2:21")};
  e.reply = {endpoint("198.19.2.2:21"), endpoint("198.18.1.2:40000")};
  return e;
}

// One expectation of a master connection and the plan it must get; unset fields (nullptr
// addresses) are not checked.
struct PlanCase {
  const char* name;
  Master master;
  const char* src;
  const char* dst;
  const char* natTo;
  std::optional<bool> needed;
  std::optional<ExpectDir> dir = std::nullopt;
  const char* natAddr = nullptr;
  const char* srcAddr = nullptr;
};

void PrintTo(const PlanCase& c, std::ostream* os) { *os << c.name; }

class PlanExpectNat : public ::testing::TestWithParam<PlanCase> {};

TEST_P(PlanExpectNat, FollowsTheMastersNat) {
  const PlanCase& c = GetParam();
  const CtEntry e = master(c.master);
  EXPECT_EQ(e.natted(), c.master != Master::NoNat) << c.name;
  core::Expectation x{endpoint(c.src), endpoint(c.dst), endpoint(c.natTo), true};
  const ExpectNatPlan p = planExpectNat(e, x);
  if (c.needed) {
    EXPECT_EQ(p.needed, *c.needed) << c.name;
  }
  if (c.dir) {
    EXPECT_EQ(p.dir, *c.dir) << c.name;
  }
  if (c.natAddr != nullptr) {
    EXPECT_EQ(p.natAddr, ipFromText(c.natAddr)) << c.name;
  }
  if (c.srcAddr != nullptr) {
    EXPECT_EQ(p.srcAddr, ipFromText(c.srcAddr)) << c.name;
  }
}

// follow-master also maps the data connection's source: the server behind DNAT leaves from
// the address the client dialled (what the policy's srcNatTo asks for in pinhole mode).
INSTANTIATE_TEST_SUITE_P(
    Expectation, PlanExpectNat,
    ::testing::Values(PlanCase{.name = "NoNatNeedsNone",
                               .master = Master::NoNat,
                               .src = "198.18.1.2:0",
                               .dst = "198.19.2.2:40001",
                               .natTo = "198.19.2.2:40001",
                               .needed = false},
                      PlanCase{.name = "PassiveThroughDnatFollowsOriginalToTheServer",
                               .master = Master::Dnat,
                               .src = "198.18.1.2:0",
                               .dst = "198.18.100.1:40001",
                               .natTo = "198.19.2.2:40001",
                               .needed = true,
                               .dir = ExpectDir::Original,
                               .natAddr = "198.19.2.2"},
                      PlanCase{.name = "ActiveThroughMasqueradeFollowsReplyToTheClient",
                               .master = Master::Masquerade,
                               .src = "198.19.2.2:0",
                               .dst = "198.19.2.1:50000",
                               .natTo = "198.18.1.2:50000",
                               .needed = true,
                               .dir = ExpectDir::Reply,
                               .natAddr = "198.18.1.2",
                               .srcAddr = "198.19.2.2"},  // the server keeps its address
                      PlanCase{.name = "ActiveThroughDnatMapsTheSourceToTheDialledAddress",
                               .master = Master::Dnat,
                               .src = "198.19.2.2:0",
                               .dst = "198.18.1.2:50000",
                               .natTo = "198.18.1.2:50000",
                               .needed = true,
                               .dir = ExpectDir::Reply,
                               .natAddr = "198.18.1.2",
                               .srcAddr = "198.18.100.1"},
                      PlanCase{.name = "PassiveThroughMasqueradeMapsTheSourceToThePublicAddress",
                               .master = Master::Masquerade,
                               .src = "198.18.1.2:0",
                               .dst = "198.19.2.2:40001",
                               .natTo = "198.19.2.2:40001",
                               .needed = std::nullopt,
                               .dir = ExpectDir::Original,
                               .srcAddr = "198.19.2.1"}),
    [](const ::testing::TestParamInfo<PlanCase>& p) { return std::string(p.param.name); });

TEST(ParseCtAttr, ReadsBothTuplesV4) {
  const CtEntry want = dnat();
  CtEntry got;
  ASSERT_TRUE(parseCtAttr(fakeCtNest(want), core::Family::V4, got));
  EXPECT_EQ(got.orig, want.orig);
  EXPECT_EQ(got.reply, want.reply);
  EXPECT_TRUE(got.natted());
}

TEST(ParseCtAttr, ReadsBothTuplesV6) {
  CtEntry want;
  want.orig = {endpoint("[2001:db8:1::2]:40000"), endpoint("[2001:db8:2::2]:21")};
  want.reply = {endpoint("[2001:db8:2::2]:21"), endpoint("[2001:db8:2::1]:40000")};
  CtEntry got;
  ASSERT_TRUE(parseCtAttr(fakeCtNest(want), core::Family::V6, got));
  EXPECT_EQ(got.orig, want.orig);
  EXPECT_EQ(got.reply, want.reply);
}

TEST(ParseCtAttr, RefusesMissingReplyTupleAndEmptyNest) {
  CtEntry got;
  EXPECT_FALSE(parseCtAttr(fakeCtNest(dnat(), false), core::Family::V4, got));
  EXPECT_FALSE(parseCtAttr({}, core::Family::V4, got));
}

}  // namespace
}  // namespace ftpalg::test
