// Whether a queued packet's own conntrack entry (NFQA_CT) is an expected connection: what a
// queue worker counts as a data-connection packet that reached the queue.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "ftpalg/kernel/conntrack.h"

namespace ftpalg::kernel {

bool packetCtExpected(std::span<const uint8_t> nest) {
  const uint8_t* const end = nest.data() + nest.size();
  const auto* attr = reinterpret_cast<const nlattr*>(nest.data());
  while (mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const uint8_t*>(attr)))) {
    const uint16_t type = mnl_attr_get_type(attr);
    if (type == CTA_TUPLE_MASTER) return true;
    if (type == CTA_STATUS && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0 &&
        (ntohl(mnl_attr_get_u32(attr)) & IPS_EXPECTED) != 0) {
      return true;
    }
    attr = mnl_attr_next(attr);
  }
  return false;
}

}  // namespace ftpalg::kernel
