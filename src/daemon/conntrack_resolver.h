// Pinhole mode's NatResolver: the NAT binding of a new control connection from the conntrack
// entry the queued packet carries (NFQA_CT; no kernel query), else from one GET of the entry by
// its original tuple, so the cost of a new session, or of a junk packet to a control port, does
// not grow with the conntrack table. Only a kernel without the NFQUEUE conntrack glue (packets
// without NFQA_CT) leaves a DNATed session to a table scan; scans are rationed to a fifth of the
// thread's time (a burst of kScanBurstNs), so junk cannot saturate the queue with them; beyond
// that a lookup fails. Before a scan, the entry is asked for by GET with each of the gateway's
// own addresses as the dialled destination (a port published on the gateway, the usual DNAT):
// a few GETs, so a burst of new sessions does not spend the scans either. A lookup that failed (no
// entry, ctnetlink error, scan budget spent) is reported as Failure::NatLookupFailed instead of
// passing for "no NAT".
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
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

  // The gateway's own addresses (getifaddrs), asked again at most every kLocalRefreshNs.
  using LocalAddresses = std::function<std::vector<core::IpAddr>()>;
  static constexpr uint64_t kLocalRefreshNs = 10'000'000'000;

  // Without `locals` (tests) no local destination is tried.
  ConntrackResolver(ConntrackBackend& conntrack, WorkerLog& log, LocalAddresses locals = {})
      : conntrack_(conntrack), log_(log), locals_(std::move(locals)) {}

  // Every address of the host's interfaces but loopback.
  static std::vector<core::IpAddr> gatewayAddresses();

  // The NFQA_CT payload of the packet being served (empty without); the view must stay valid
  // until clearPacket(). Parsed only when asked for.
  void setPacket(std::span<const uint8_t> ct, core::Family family);
  void clearPacket();

  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

  // conntrack_state = "labels": every new session's entry is read by GET (not from the packet)
  // and a record found at `firstBit` gives a session picked up mid-stream its offsets
  // (NatBinding::priorDelta); a shifted one is set liberal with the session mark again.
  void setStateLabels(bool on, unsigned firstBit) {
    labels_ = on;
    labelBit_ = firstBit;
  }

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
  // The GET with each local address as the dialled destination; Failed when none matched.
  kernel::NatLookupResult lookupDialledLocal(const core::FlowKey& flow, core::NatBinding& out);
  void remember(const core::FlowKey& flow, const kernel::CtTuple& orig);
  // The record in the labels of the entry lookup `r` found, into out.priorDelta.
  void adoptLabels(const core::FlowKey& flow, const kernel::NatLookupResult& r,
                   core::NatBinding& out);
  bool labels_ = false;
  unsigned labelBit_ = 0;
  LocalAddresses locals_;
  std::vector<core::IpAddr> localCache_;
  uint64_t localAtNs_ = 0;
  bool localKnown_ = false;
  std::vector<ScannedFlow> scanned_;
  int64_t scanCreditNs_ = kScanBurstNs;
  uint64_t scanCreditAtNs_ = 0;
};

}  // namespace ftpalg::daemon
