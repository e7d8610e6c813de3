// Conntrack adapter (libnetfilter_conntrack over ctnetlink): the NAT binding of a control
// connection, and TCP liberal tracking once ftpalg shifts its sequence numbers.
#pragma once

#include <memory>

#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/status.h"

namespace ftpalg::kernel {

class ConntrackImpl;

// One ctnetlink socket. Not thread-safe.
class Conntrack : public core::NatResolver {
 public:
  Conntrack();
  ~Conntrack() override;
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  Status open();

  // core::NatResolver. `flow` is the control connection as the forward hook sees it (client's
  // real address and port, server's real address after DNAT). Finds the conntrack entry with
  // original source == flow.client and reply source == flow.server, and fills:
  // clientInside = orig src, serverInside = orig dst, serverOutside = reply src,
  // clientOutside = reply dst. False when there is no entry or no NAT (addresses compared).
  // Cost: one GET of the tuple client -> server (the entry whenever there is no DNAT), else a
  // dump of all entries of the family (libnetfilter_conntrack 1.0.9 has no tuple filter).
  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

  // Sets IP_CT_TCP_FLAG_BE_LIBERAL in both directions of the control connection's entry, so
  // the kernel does not count the shifted stream as INVALID; reads the entry back and fails
  // with EIO when the flag is not set in both directions, ENOENT when there is no entry.
  Status setLiberal(const core::FlowKey& flow);

 private:
  std::unique_ptr<ConntrackImpl> impl_;
};

}  // namespace ftpalg::kernel
