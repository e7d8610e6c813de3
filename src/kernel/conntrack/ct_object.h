// libnetfilter_conntrack objects to and from core values, shared by Conntrack and
// ExpectationTable: the owning pointer, the address family, a TCP tuple src -> dst and an
// address attribute.
#pragma once

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <cstdint>
#include <memory>

#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/ct_labels.h"

namespace ftpalg::kernel {

struct CtDeleter {
  void operator()(nf_conntrack* ct) const { nfct_destroy(ct); }
};
// Owns one nf_conntrack object.
using CtPtr = std::unique_ptr<nf_conntrack, CtDeleter>;

// AF_INET, AF_INET6 or AF_UNSPEC for an address without a family.
int familyOf(const core::IpAddr& a);

// A TCP tuple object src -> dst of `family`; ports in host order, addresses 4 or 16 bytes.
// Null when allocation fails.
CtPtr tcpTupleObject(int family, const uint8_t* src, const uint8_t* dst, uint16_t sport,
                     uint16_t dport);
// The same from two endpoints (family of `src`).
CtPtr tcpTupleObject(const core::Endpoint& src, const core::Endpoint& dst);

// The address attribute `v4` (family AF_INET) or `v6` (any other family) of `ct`, which must
// be set.
core::IpAddr ctAddr(const nf_conntrack* ct, int family, nf_conntrack_attr v4, nf_conntrack_attr v6);

// The entry's conntrack labels (all zero when it carries none).
CtLabelBits labelsOf(const nf_conntrack* ct);

}  // namespace ftpalg::kernel
