// Pinhole mode's Admitter: each admit is an element of ftpalg's nftables pinhole set (and NAT
// maps), the NAT binding of a session comes from conntrack (the packet's own entry, NFQA_CT, or
// one GET by original tuple: see ConntrackResolver), and a session whose announcements
// are rewritten is set to liberal TCP tracking once (the kernel would otherwise count the
// shifted stream as INVALID).
#pragma once

#include <memory>
#include <vector>

#include "daemon/admit_backends.h"
#include "daemon/admitter.h"
#include "daemon/conntrack_resolver.h"
#include "daemon/marked_flows.h"
#include "daemon/withdraw_queue.h"
#include "daemon/worker_log.h"

namespace ftpalg::daemon {

// Pinholes through a PinholeBackend, NAT and liberal marks through a ConntrackBackend.
class PinholeAdmitter final : public Admitter {
 public:
  // `idleTimeoutNs`: the engine's session idle timeout (how long a liberal mark is remembered).
  PinholeAdmitter(std::unique_ptr<PinholeBackend> pinholes,
                  std::unique_ptr<ConntrackBackend> conntrack, uint64_t idleTimeoutNs,
                  WorkerLog& log);

  Status open() override { return conntrack_->open(); }
  [[nodiscard]] std::string_view name() const override { return "pinhole"; }
  [[nodiscard]] std::string_view eventWord() const override { return "pinhole"; }
  core::NatResolver* natResolver() override { return &resolver_; }
  [[nodiscard]] bool verdictWithCt() const override { return false; }
  bool begin(const kernel::QueuedPacket& packet, const core::PacketView& raw,
             core::PacketView& view) override;
  Status admit(const core::FlowKey& flow, const core::Expectation& x, uint64_t nowNs) override;
  Status withdraw(const core::FlowKey& flow, const core::Expectation& x, uint64_t nowNs) override;
  // Ended sessions' withdrawals go to `q` (withdraw_queue.h), served by its own thread; admits
  // first settle the pending withdrawals that share their keys. Without: all synchronous.
  void deferWithdrawals(std::unique_ptr<WithdrawQueue> q);
  // Posts the withdrawal (withdrawDeferred); a full queue declines it (withdrawSyncFallbacks).
  bool withdrawLater(const core::Event& withdraw, uint64_t nowNs) override;
  // Kicks the withdrawal thread and reports the outcomes it finished.
  void verdictsFlushed(uint64_t nowNs) override;
  void drain(uint64_t nowNs) override;
  // Marks `flow` liberal unless it already is (Failure::LiberalFailed: tried again next time).
  void rewritten(const core::FlowKey& flow, uint64_t nowNs) override;
  // The same mark; false when it could not be set.
  bool shifted(const core::FlowKey& flow, uint64_t nowNs) override;
  // A marked flow's entry back to ESTABLISHED (conntrack moved it to CLOSE on the RST); the
  // mark is kept (Failure::RestoreFailed when the update fails).
  void rstIgnored(const core::FlowKey& flow, uint64_t nowNs) override;
  // FIN or an RST the engine accepted: forgets the liberal mark.
  void end(const core::PacketView& view, const core::FlowKey& flow, core::Dir dir,
           uint64_t nowNs) override;
  void expire(uint64_t nowNs) override;
  // False only when conntrack has no entry for the connection (ENOENT), tried as the client
  // dialled it and as the engine sees it.
  bool sessionAlive(const core::FlowKey& flow, const core::NatBinding& nat) override;
  kernel::CtTuple entryTuple(const core::FlowKey& flow) override {
    return resolver_.originalTuple(flow);
  }
  // conntrack_state = "labels": the resolver reads offsets from the entries' labels.
  void setStateLabels(bool on, unsigned firstBit) { resolver_.setStateLabels(on, firstBit); }

 private:
  bool rstIgnored_ = false;  // rstIgnored() during the current packet: end() keeps the mark
  bool markFailed_ = false;  // a mark failed during the current packet: not tried twice
  // Reports (and clears) outcomes_; logs the deletion form once it is known.
  void reportOutcomes(uint64_t nowNs);

  WorkerLog& log_;
  uint64_t idleTimeoutNs_;
  std::unique_ptr<PinholeBackend> pinholes_;
  std::unique_ptr<ConntrackBackend> conntrack_;
  ConntrackResolver resolver_;
  MarkedFlows marked_;
  std::unique_ptr<WithdrawQueue> withdrawals_;  // null: withdrawals synchronous
  std::vector<WithdrawOutcome> outcomes_;       // reused
  bool formLogged_ = false;
};

}  // namespace ftpalg::daemon
