// A queued packet's own conntrack entry (NFQA_CT): its tuples and whether it is confirmed.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ftpalg/kernel/conntrack.h"
#include "kernel/conntrack/ct_tuples.h"

namespace ftpalg::kernel {

bool parsePacketCt(std::span<const uint8_t> nest, core::Family family, PacketCt& out) {
  if (!parseCtAttr(nest, family, out.entry)) return false;
  // CTA_STATUS is a top-level attribute of the nest: one walk over a few attribute headers.
  out.confirmed = false;
  const uint8_t* const end = nest.data() + nest.size();
  const auto* attr = reinterpret_cast<const nlattr*>(nest.data());
  while (mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const uint8_t*>(attr)))) {
    if (mnl_attr_get_type(attr) == CTA_STATUS && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0) {
      out.confirmed = (ntohl(mnl_attr_get_u32(attr)) & IPS_CONFIRMED) != 0;
    }
    attr = mnl_attr_next(attr);
  }
  return true;
}

bool ctEntryBinding(const CtEntry& e, core::NatBinding& out) {
  return ctBinding(CtTuples{e.orig.src, e.orig.dst, e.reply.src, e.reply.dst}, out);
}

}  // namespace ftpalg::kernel
