// Pinhole mode's NatResolver: the NAT binding of a new control connection from the conntrack
// entry the queued packet carries (NFQA_CT; no kernel query), else from one GET of the entry by
// its original tuple. Never a dump of the conntrack table: the cost of a new session, or of a
// junk packet to a control port, does not grow with the table. A lookup that failed (no entry,
// ctnetlink error) is reported as Failure::NatLookupFailed instead of passing for "no NAT".
#pragma once

#include <span>

#include "daemon/admit_backends.h"
#include "daemon/worker_log.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/conntrack.h"

namespace ftpalg::daemon {

// core::NatResolver over the packet's own entry, then ConntrackBackend::lookupNat.
class ConntrackResolver : public core::NatResolver {
 public:
  ConntrackResolver(ConntrackBackend& conntrack, WorkerLog& log)
      : conntrack_(conntrack), log_(log) {}

  // The NFQA_CT payload of the packet being served (empty without); the view must stay valid
  // until clearPacket(). Parsed only when asked for.
  void setPacket(std::span<const uint8_t> ct, core::Family family);
  void clearPacket();

  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

  // The original tuple of control connection `flow`: the packet's entry's when it is that
  // connection's, else flow.client -> flow.server (the entry whenever there is no DNAT).
  kernel::CtTuple originalTuple(const core::FlowKey& flow);

 private:
  // The packet's entry, parsed once per packet; null without one or when it is not `flow`'s.
  const kernel::PacketCt* packetEntry(const core::FlowKey& flow);

  ConntrackBackend& conntrack_;
  WorkerLog& log_;
  std::span<const uint8_t> ct_;
  core::Family family_ = core::Family::None;
  bool parsed_ = false;
  bool valid_ = false;
  kernel::PacketCt entry_;
};

}  // namespace ftpalg::daemon
