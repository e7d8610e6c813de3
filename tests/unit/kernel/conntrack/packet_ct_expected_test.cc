// packetCtExpected: a queued packet's NFQA_CT names an expected (data) connection by
// IPS_EXPECTED or by a master tuple; a control connection's does not.
#include <gtest/gtest.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include "ftpalg/kernel/conntrack.h"
#include "tests/support/fake_ct_nest.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

const kernel::CtEntry kData{{endpoint("198.18.1.2:40000"), endpoint("198.19.1.2:40001")},
                            {endpoint("198.19.1.2:40001"), endpoint("198.18.1.2:40000")}};
const kernel::CtTuple kMaster{endpoint("198.18.1.2:39999"), endpoint("198.19.1.2:21")};

std::vector<uint8_t> nest(uint32_t status, bool withMaster) {
  std::array<char, 1024> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlattr* n = mnl_attr_nest_start(nlh, 1);
  putCtTuple(nlh, CTA_TUPLE_ORIG, kData.orig.src, kData.orig.dst);
  putCtTuple(nlh, CTA_TUPLE_REPLY, kData.reply.src, kData.reply.dst);
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(status));
  if (withMaster) putCtTuple(nlh, CTA_TUPLE_MASTER, kMaster.src, kMaster.dst);
  mnl_attr_nest_end(nlh, n);
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(n));
  return std::vector<uint8_t>(p, p + mnl_attr_get_payload_len(n));
}

TEST(PacketCtExpected, ExpectedStatusBit) {
  EXPECT_TRUE(kernel::packetCtExpected(nest(IPS_EXPECTED | IPS_CONFIRMED, false)));
}

TEST(PacketCtExpected, MasterTupleAlone) {
  EXPECT_TRUE(kernel::packetCtExpected(nest(IPS_CONFIRMED, true)));
}

TEST(PacketCtExpected, ControlConnectionIsNot) {
  EXPECT_FALSE(kernel::packetCtExpected(nest(IPS_CONFIRMED | IPS_SRC_NAT | IPS_SEEN_REPLY, false)));
}

TEST(PacketCtExpected, EmptyOrTruncatedNestIsNot) {
  EXPECT_FALSE(kernel::packetCtExpected({}));
  const std::vector<uint8_t> n = nest(IPS_EXPECTED, false);
  EXPECT_FALSE(kernel::packetCtExpected(std::span<const uint8_t>(n.data(), 10)));
}

}  // namespace
}  // namespace ftpalg::test
