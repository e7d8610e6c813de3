#include "kernel/conntrack/ct_object.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace ftpalg::kernel {

int familyOf(const core::IpAddr& a) {
  switch (a.family) {
    case core::Family::V4:
      return AF_INET;
    case core::Family::V6:
      return AF_INET6;
    case core::Family::None:
      break;
  }
  return AF_UNSPEC;
}

CtPtr tcpTupleObject(int family, const uint8_t* src, const uint8_t* dst, uint16_t sport,
                     uint16_t dport) {
  CtPtr ct(nfct_new());
  if (!ct) {
    return ct;
  }
  nfct_set_attr_u8(ct.get(), ATTR_L3PROTO, static_cast<uint8_t>(family));
  if (family == AF_INET) {
    nfct_set_attr(ct.get(), ATTR_IPV4_SRC, src);
    nfct_set_attr(ct.get(), ATTR_IPV4_DST, dst);
  } else {
    nfct_set_attr(ct.get(), ATTR_IPV6_SRC, src);
    nfct_set_attr(ct.get(), ATTR_IPV6_DST, dst);
  }
  nfct_set_attr_u8(ct.get(), ATTR_L4PROTO, IPPROTO_TCP);
  nfct_set_attr_u16(ct.get(), ATTR_PORT_SRC, htons(sport));
  nfct_set_attr_u16(ct.get(), ATTR_PORT_DST, htons(dport));
  return ct;
}

CtPtr tcpTupleObject(const core::Endpoint& src, const core::Endpoint& dst) {
  return tcpTupleObject(familyOf(src.addr), src.addr.bytes.data(), dst.addr.bytes.data(), src.port,
                        dst.port);
}

core::IpAddr ctAddr(const nf_conntrack* ct, int family, nf_conntrack_attr v4,
                    nf_conntrack_attr v6) {
  core::IpAddr a;
  if (family == AF_INET) {
    a.family = core::Family::V4;
    std::memcpy(a.bytes.data(), nfct_get_attr(ct, v4), 4);
  } else {
    a.family = core::Family::V6;
    std::memcpy(a.bytes.data(), nfct_get_attr(ct, v6), 16);
  }
  return a;
}

CtLabelBits labelsOf(const nf_conntrack* ct) {
  CtLabelBits out;
  if (!nfct_attr_is_set(ct, ATTR_CONNLABELS)) return out;
  const auto* b = static_cast<const nfct_bitmask*>(nfct_get_attr(ct, ATTR_CONNLABELS));
  if (b == nullptr) return out;
  const unsigned maxbit = nfct_bitmask_maxbit(b);
  for (unsigned i = 0; i < CtLabelBits::kBits && i <= maxbit; ++i) {
    if (nfct_bitmask_test_bit(b, i) != 0) out.set(i);
  }
  return out;
}

}  // namespace ftpalg::kernel
