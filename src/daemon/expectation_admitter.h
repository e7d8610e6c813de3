// Expectation mode's Admitter (cthelper): the queue carries each packet's conntrack entry
// (NFQA_CT, after NAT); the NAT binding comes from its tuples, each admit becomes a conntrack
// expectation on that entry, and the expectations a control connection created are deleted
// when it ends (FIN both ways, RST, or idle expiry), so none outlives its session.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "daemon/admit_backends.h"
#include "daemon/admitter.h"
#include "daemon/worker_log.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/expectation.h"

namespace ftpalg::daemon {

// Expectation mode's NatResolver: the binding of the conntrack entry of the packet being
// handled (the engine asks from inside onSegment). clientInside = orig src, serverInside =
// orig dst, serverOutside = reply src, clientOutside = reply dst.
class CtEntryResolver : public core::NatResolver {
 public:
  void set(const kernel::CtEntry* ct) { ct_ = ct; }
  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

 private:
  const kernel::CtEntry* ct_ = nullptr;
};

// Conntrack expectations through an ExpectationBackend.
class ExpectationAdmitter final : public Admitter {
 public:
  // Reads maxSessions, maxExpectationsPerSession, idleTimeoutNs and expectTimeoutNs.
  ExpectationAdmitter(std::unique_ptr<ExpectationBackend> expectations,
                      const core::EngineConfig& engine, WorkerLog& log);

  Status open() override { return expectations_->open(); }
  [[nodiscard]] std::string_view name() const override { return "expectation"; }
  [[nodiscard]] std::string_view eventWord() const override { return "expect"; }
  core::NatResolver* natResolver() override { return &resolver_; }
  [[nodiscard]] bool verdictWithCt() const override { return true; }
  // Reads the packet's conntrack entry and hands the engine a copy of `raw` whose addresses and
  // ports are those of the entry's original tuple (the kernel queues after NAT, so the two
  // directions otherwise show different address pairs). False without a usable entry.
  bool begin(const kernel::QueuedPacket& packet, const core::PacketView& raw,
             core::PacketView& view) override;
  // An expectation on the current packet's entry; ENOENT outside begin()/end() (an
  // announcement released by a timer has no master at hand: fail closed).
  Status admit(const core::FlowKey& flow, const core::Expectation& x, uint64_t nowNs) override;
  // Deletes the expectation (gone already, used or timed out: success).
  Status withdraw(const core::FlowKey& flow, const core::Expectation& x, uint64_t nowNs) override;
  void rewritten(const core::FlowKey& /*flow*/, uint64_t /*nowNs*/) override {}
  // Remembers the current entry: its verdict changes the stream's length, so the kernel's
  // seqadj of it changes, which no conntrack event reports (docs/ha.md).
  bool shifted(const core::FlowKey& flow, uint64_t nowNs) override;
  // Announces each remembered entry (ExpectationBackend::announce) now that its verdict has
  // been applied: the update event carries the new seqadj to conntrackd.
  void verdictsFlushed(uint64_t nowNs) override;
  // Notes the packet of the control connection; FIN both ways or RST end it.
  void end(const core::PacketView& view, const core::FlowKey& flow, core::Dir dir,
           uint64_t nowNs) override;
  void expire(uint64_t nowNs) override;

 private:
  // The expectations created on one control connection that may still be outstanding (the
  // newest maxExpectationsPerSession; the kernel evicts older ones itself), deleted when the
  // connection ends. Fixed capacity: no allocation per packet.
  static constexpr size_t kMaxTrackedPerFlow = 16;
  // Packets of one receive batch (QueueWorker's kMaxBatch): at most one shifted entry each.
  static constexpr size_t kMaxShiftedPerBatch = 64;
  struct ExpectedFlow {
    core::FlowKey flow;
    uint64_t lastNs = 0;    // last packet of the connection
    uint64_t newestNs = 0;  // newest expectation created
    uint8_t finDirs = 0;    // bit 0: FIN seen client -> server, bit 1: server -> client
    uint8_t count = 0;      // valid entries of `expects`
    uint8_t next = 0;       // ring position of the next (overwriting the oldest when full)
    std::array<core::Expectation, kMaxTrackedPerFlow> expects{};
  };

  bool normalise(const core::PacketView& raw, core::PacketView& out) const;
  // Remembers an expectation created on `flow`.
  void remember(const core::FlowKey& flow, const core::Expectation& x, uint64_t nowNs);
  // Deletes the outstanding expectations of expectedFlows_[i] and forgets the entry.
  void removeExpects(size_t i, const char* why, uint64_t nowNs);

  WorkerLog& log_;
  uint64_t idleTimeoutNs_;
  uint64_t expectTimeoutNs_;
  std::unique_ptr<ExpectationBackend> expectations_;
  CtEntryResolver resolver_;
  kernel::CtEntry currentCt_;
  bool hasCurrentCt_ = false;
  std::vector<ExpectedFlow> expectedFlows_;  // reserved at construction
  size_t expectsPerFlow_ = 0;
  // Entries shifted in the current batch, announced after its verdicts (reserved: at most one
  // a packet of the batch).
  std::vector<kernel::CtTuple> shiftedCts_;
};

}  // namespace ftpalg::daemon
