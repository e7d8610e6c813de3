// A queued packet's NFQA_CT: both tuples and the confirmed bit; the binding of an entry.
#include <gtest/gtest.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include "ftpalg/kernel/conntrack.h"
#include "tests/support/fake_ct_nest.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using ftpalg::test::endpoint;

std::vector<uint8_t> nestWithStatus(const kernel::CtEntry& e, uint32_t status) {
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

const kernel::CtEntry kEntry{{endpoint("10.1.0.5:40000"), endpoint("198.51.100.7:21")},
                             {endpoint("10.0.0.9:21"), endpoint("203.0.113.1:61000")}};

TEST(PacketCtTest, ConfirmedEntryWithBothTuples) {
  kernel::PacketCt ct;
  ASSERT_TRUE(kernel::parsePacketCt(nestWithStatus(kEntry, IPS_CONFIRMED | IPS_SRC_NAT),
                                    core::Family::V4, ct));
  EXPECT_TRUE(ct.confirmed);
  EXPECT_EQ(ct.entry.orig, kEntry.orig);
  EXPECT_EQ(ct.entry.reply, kEntry.reply);
}

TEST(PacketCtTest, UnconfirmedEntry) {
  kernel::PacketCt ct;
  ASSERT_TRUE(kernel::parsePacketCt(nestWithStatus(kEntry, IPS_DST_NAT), core::Family::V4, ct));
  EXPECT_FALSE(ct.confirmed);
}

TEST(PacketCtTest, EmptyOrTruncatedNestIsRefused) {
  kernel::PacketCt ct;
  EXPECT_FALSE(kernel::parsePacketCt({}, core::Family::V4, ct));
  const std::vector<uint8_t> n = nestWithStatus(kEntry, IPS_CONFIRMED);
  EXPECT_FALSE(kernel::parsePacketCt(std::span<const uint8_t>(n.data(), 12), core::Family::V4, ct));
}

TEST(PacketCtTest, BindingOfAnEntryBehindSnatAndDnat) {
  core::NatBinding b;
  ASSERT_TRUE(kernel::ctEntryBinding(kEntry, b));
  EXPECT_EQ(b.clientInside, kEntry.orig.src.addr);
  EXPECT_EQ(b.serverInside, kEntry.orig.dst.addr);
  EXPECT_EQ(b.serverOutside, kEntry.reply.src.addr);
  EXPECT_EQ(b.clientOutside, kEntry.reply.dst.addr);
  const kernel::CtEntry plain{{endpoint("10.1.0.5:40000"), endpoint("10.0.0.9:21")},
                              {endpoint("10.0.0.9:21"), endpoint("10.1.0.5:40000")}};
  EXPECT_FALSE(kernel::ctEntryBinding(plain, b));
}

}  // namespace
}  // namespace ftpalg::test
