// Pinhole mode's NatResolver: the NAT binding of a new control connection from the conntrack
// entry the queued packet carries (NFQA_CT; no kernel query), else from one GET of the entry by
// its original tuple, so the cost of a new session, or of a junk packet to a control port, does
// not grow with the conntrack table. Only a kernel without the NFQUEUE conntrack glue (packets
// without NFQA_CT) leaves a DNATed session to a table scan; scans are rationed to a fifth of the
// thread's time (a burst of kScanBurstNs), so junk cannot saturate the queue with them; beyond
// that a lookup fails. A lookup that failed (no entry, ctnetlink error, scan budget spent) is
// reported as Failure::NatLookupFailed instead of passing for "no NAT".
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "daemon/admit_backends.h"
#include "daemon/worker_log.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/conntrack.h"

namespace ftpalg::daemon {

// core::NatResolver over the packet's own entry, then ConntrackBackend::lookupNat.
class ConntrackResolver : public core::NatResolver {
 public:
  static constexpr int64_t kScanBurstNs = 200'000'000;
  static constexpr int64_t kScanShare = 5;  // one nanosecond of scan per five elapsed
  static constexpr size_t kScanSlots = 4096;

  ConntrackResolver(ConntrackBackend& conntrack, WorkerLog& log)
      : conntrack_(conntrack), log_(log) {}

  // The NFQA_CT payload of the packet being served (empty without); the view must stay valid
  // until clearPacket(). Parsed only when asked for.
  void setPacket(std::span<const uint8_t> ct, core::Family family);
  void clearPacket();

  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

  // The original tuple of control connection `flow`: the packet's entry's when it is that
  // connection's, else the one a scan found for it (remembered in kScanSlots slots), else
  // flow.client -> flow.server (the entry whenever there is no DNAT).
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
  // Original tuples found by scans, by a hash of the flow (a collision forgets the older).
  struct ScannedFlow {
    core::FlowKey flow;
    kernel::CtTuple orig;
  };
  [[nodiscard]] static size_t slotOf(const core::FlowKey& flow);
  std::vector<ScannedFlow> scanned_;
  int64_t scanCreditNs_ = kScanBurstNs;
  uint64_t scanCreditAtNs_ = 0;
};

}  // namespace ftpalg::daemon
