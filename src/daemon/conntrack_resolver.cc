#include "daemon/conntrack_resolver.h"

#include "daemon/clock.h"
#include "daemon/text.h"

namespace ftpalg::daemon {

bool ConntrackResolver::resolve(const core::FlowKey& flow, core::NatBinding& out) {
  const kernel::NatLookupResult r = conntrack_.lookupNat(flow, out);
  if (r.outcome == kernel::NatLookup::Failed) {
    (void)log_.fail(Failure::NatLookupFailed, monotonicNs(),
                    "NAT lookup for flow {} failed: {}; serving it as without NAT", flowText(flow),
                    r.status.message());
  }
  return r.outcome == kernel::NatLookup::Natted;
}

}  // namespace ftpalg::daemon
