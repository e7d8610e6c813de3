// Conntrack adapter (libnetfilter_conntrack over ctnetlink): the NAT binding of a control
// connection, and TCP liberal tracking once ftpalg shifts its sequence numbers.
#pragma once

#include <cstdint>
#include <memory>

#include "ftpalg/core/engine.h"
#include "ftpalg/status.h"

namespace ftpalg::kernel {

class ConntrackImpl;

// What a NAT lookup found. NoNat and Failed both leave a session without a binding, but only
// Failed means the answer is unknown (no entry, or ctnetlink failed): callers count it.
enum class NatLookup : uint8_t {
  Natted,  // the entry was found and NAT changed an address
  NoNat,   // the entry was found and carries no NAT
  Failed,  // no entry, or the query failed: `status` says which (ENOENT: no entry)
};

// Outcome of Conntrack::lookupNat.
struct NatLookupResult {
  NatLookup outcome = NatLookup::NoNat;
  Status status;  // the error when outcome == Failed
};

// One ctnetlink socket. Not thread-safe.
class Conntrack : public core::NatResolver {
 public:
  Conntrack();
  ~Conntrack() override;
  Conntrack(const Conntrack&) = delete;
  Conntrack& operator=(const Conntrack&) = delete;

  Status open();

  // `flow` is the control connection as the forward hook sees it (client's real address and
  // port, server's real address after DNAT). Finds the conntrack entry with original source ==
  // flow.client and reply source == flow.server, and fills: clientInside = orig src,
  // serverInside = orig dst, serverOutside = reply src, clientOutside = reply dst. Natted when
  // an inside address differs from its outside one, NoNat when none does, Failed when there
  // is no such entry (ENOENT) or the query failed (`out` is then unspecified).
  // Cost: one GET of the tuple client -> server (the entry whenever there is no DNAT), else a
  // dump of all entries of the family (libnetfilter_conntrack 1.0.9 has no tuple filter).
  NatLookupResult lookupNat(const core::FlowKey& flow, core::NatBinding& out);

  // core::NatResolver: lookupNat folded to a bool (true only for Natted). Callers that must
  // tell a failed lookup from "no NAT" use lookupNat.
  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

  // Sets IP_CT_TCP_FLAG_BE_LIBERAL in both directions of the control connection's entry, so
  // the kernel does not count the shifted stream as INVALID; reads the entry back and fails
  // with EIO when the flag is not set in both directions, ENOENT when there is no entry.
  Status setLiberal(const core::FlowKey& flow);

 private:
  std::unique_ptr<ConntrackImpl> impl_;
};

}  // namespace ftpalg::kernel
