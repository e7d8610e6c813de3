// parseCtAttr reads the seqadj offsets of a queued packet's conntrack nest (CTA_SEQ_ADJ_ORIG /
// CTA_SEQ_ADJ_REPLY, which the kernel includes once the entry has IPS_SEQ_ADJUST): what a
// restarted daemon needs to pick up a session its predecessor rewrote.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include <array>
#include <cstdint>
#include <vector>

#include "ftpalg/kernel/expectation.h"
#include "tests/support/fake_ct_nest.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using kernel::CtEntry;

// CTA_SEQ_ADJ_xxx { CORRECTION_POS, OFFSET_BEFORE, OFFSET_AFTER }, as the kernel dumps them.
void putSeqAdj(nlmsghdr* nlh, uint16_t type, uint32_t pos, int32_t before, int32_t after) {
  nlattr* n = mnl_attr_nest_start(nlh, type);
  mnl_attr_put_u32(nlh, CTA_SEQADJ_CORRECTION_POS, htonl(pos));
  mnl_attr_put_u32(nlh, CTA_SEQADJ_OFFSET_BEFORE, htonl(static_cast<uint32_t>(before)));
  mnl_attr_put_u32(nlh, CTA_SEQADJ_OFFSET_AFTER, htonl(static_cast<uint32_t>(after)));
  mnl_attr_nest_end(nlh, n);
}

std::vector<uint8_t> nestWithSeqAdj(const CtEntry& e, int32_t origAfter, int32_t replyAfter) {
  std::array<char, 1024> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlattr* nest = mnl_attr_nest_start(nlh, 1);
  putCtTuple(nlh, CTA_TUPLE_ORIG, e.orig.src, e.orig.dst);
  putCtTuple(nlh, CTA_TUPLE_REPLY, e.reply.src, e.reply.dst);
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_CONFIRMED | IPS_DST_NAT | IPS_SEQ_ADJUST));
  putSeqAdj(nlh, CTA_SEQ_ADJ_ORIG, 7000, 0, origAfter);
  putSeqAdj(nlh, CTA_SEQ_ADJ_REPLY, 90000, 1, replyAfter);
  mnl_attr_nest_end(nlh, nest);
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(nest));
  return std::vector<uint8_t>(p, p + mnl_attr_get_payload_len(nest));
}

CtEntry dnatEntry() {
  return CtEntry{{endpoint("198.18.1.2:40000"), endpoint("198.18.1.10:21")},
                 {endpoint("198.19.1.2:21"), endpoint("198.18.1.2:40000")}};
}

TEST(ParseCtAttrSeqAdj, OffsetsAfterTheLastCorrectionOfBothDirections) {
  CtEntry got;
  ASSERT_TRUE(kernel::parseCtAttr(nestWithSeqAdj(dnatEntry(), -4, 2), core::Family::V4, got));
  EXPECT_EQ(got.seqOffsetOrig, -4);
  EXPECT_EQ(got.seqOffsetReply, 2);
  EXPECT_EQ(got.orig.dst, endpoint("198.18.1.10:21"));
}

TEST(ParseCtAttrSeqAdj, NoExtensionMeansNoOffset) {
  CtEntry got;
  got.seqOffsetOrig = got.seqOffsetReply = 99;  // a reused entry must not keep old offsets
  ASSERT_TRUE(kernel::parseCtAttr(fakeCtNest(dnatEntry()), core::Family::V4, got));
  EXPECT_EQ(got.seqOffsetOrig, 0);
  EXPECT_EQ(got.seqOffsetReply, 0);
}

}  // namespace
}  // namespace ftpalg::test
