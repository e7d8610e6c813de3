// Test support: the payload of a queued packet's NFQA_CT nest (CTA_TUPLE_ORIG, CTA_TUPLE_REPLY,
// CTA_STATUS), as the kernel sends it with NFQA_CFG_F_CONNTRACK, for a given conntrack entry.
#pragma once

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <vector>

#include "ftpalg/kernel/expectation.h"

namespace ftpalg::test {

// CTA_TUPLE_xxx { CTA_TUPLE_IP { src, dst }, CTA_TUPLE_PROTO { num, sport, dport } }
inline void putCtTuple(nlmsghdr* nlh, uint16_t type, const core::Endpoint& s,
                       const core::Endpoint& d) {
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

// The NFQA_CT nest's payload for `e`; without CTA_TUPLE_REPLY when `withReply` is false (an
// incomplete nest).
inline std::vector<uint8_t> fakeCtNest(const kernel::CtEntry& e, bool withReply = true) {
  std::array<char, 1024> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlattr* nest = mnl_attr_nest_start(nlh, 1);
  putCtTuple(nlh, CTA_TUPLE_ORIG, e.orig.src, e.orig.dst);
  if (withReply) putCtTuple(nlh, CTA_TUPLE_REPLY, e.reply.src, e.reply.dst);
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(0x8));
  mnl_attr_nest_end(nlh, nest);
  const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(nest));
  return std::vector<uint8_t>(p, p + mnl_attr_get_payload_len(nest));
}

}  // namespace ftpalg::test
