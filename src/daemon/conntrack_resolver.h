// Pinhole mode's NatResolver: asks conntrack for the control connection's NAT binding, and
// reports a lookup that failed (no entry, ctnetlink error) as Failure::NatLookupFailed instead
// of letting it pass for "no NAT".
#pragma once

#include "daemon/admit_backends.h"
#include "daemon/worker_log.h"
#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// core::NatResolver over ConntrackBackend::lookupNat, failures counted and logged.
class ConntrackResolver : public core::NatResolver {
 public:
  ConntrackResolver(ConntrackBackend& conntrack, WorkerLog& log)
      : conntrack_(conntrack), log_(log) {}
  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

 private:
  ConntrackBackend& conntrack_;
  WorkerLog& log_;
};

}  // namespace ftpalg::daemon
