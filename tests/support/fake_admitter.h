// Test support: an Admitter without a kernel. Records every call; admits can be made to fail;
// NAT bindings come from a StaticNat. With `expectationMode` it behaves like expectation mode
// where the worker can tell: a packet without an NFQA_CT nest cannot be served, and verdicts
// with new bytes carry NFQA_CT. Header-only (needs the daemon library, see fake_queue.h).
#pragma once

#include <cerrno>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "daemon/admitter.h"
#include "tests/support/engine_harness.h"

namespace ftpalg::test {

// Records admits, rewrites, packet begin/end and expiry; fails admits on request.
class FakeAdmitter final : public daemon::Admitter {
 public:
  // One admit call.
  struct Admit {
    core::FlowKey flow;
    core::Expectation expect;
  };

  Status open() override {
    ++opens;
    return openStatus;
  }
  [[nodiscard]] std::string_view name() const override {
    return expectationMode ? "expectation" : "pinhole";
  }
  [[nodiscard]] std::string_view eventWord() const override {
    return expectationMode ? "expect" : "pinhole";
  }
  core::NatResolver* natResolver() override { return &nat; }
  [[nodiscard]] bool verdictWithCt() const override { return expectationMode; }
  bool begin(const kernel::QueuedPacket& packet, const core::PacketView& raw,
             core::PacketView& view) override {
    ++begins;
    if (expectationMode && packet.ct.empty()) return false;
    view = raw;
    return true;
  }
  Status admit(const core::FlowKey& flow, const core::Expectation& x, uint64_t /*nowNs*/) override {
    ++admitCalls;
    if (failAdmits > 0) {
      --failAdmits;
      return Status::error(ENFILE, "fake: admit");
    }
    admits.push_back(Admit{flow, x});
    return {};
  }
  Status withdraw(const core::FlowKey& flow, const core::Expectation& x,
                  uint64_t /*nowNs*/) override {
    withdrawals.push_back(Admit{flow, x});
    return withdrawStatus;
  }
  void rewritten(const core::FlowKey& flow, uint64_t /*nowNs*/) override {
    rewrittenFlows.push_back(flow);
  }
  bool shifted(const core::FlowKey& flow, uint64_t /*nowNs*/) override {
    if (onShifted) onShifted();
    if (failShifts > 0) {
      --failShifts;
      return false;
    }
    shiftedFlows.push_back(flow);
    return true;
  }
  void end(const core::PacketView& /*view*/, const core::FlowKey& flow, core::Dir dir,
           uint64_t /*nowNs*/) override {
    ++ends;
    lastFlow = flow;
    lastDir = dir;
  }
  void expire(uint64_t /*nowNs*/) override { ++expires; }

  bool expectationMode = false;
  ftpalg::test::StaticNat nat;     // the binding the engine gets (nat.enabled = false: no NAT)
  int failAdmits = 0;              // the next n admits fail with ENFILE
  std::vector<Admit> admits;       // successful admits
  std::vector<Admit> withdrawals;  // every withdraw call
  Status withdrawStatus;           // what withdraw calls return
  int admitCalls = 0;
  std::vector<core::FlowKey> rewrittenFlows;
  Status openStatus;
  int opens = 0;
  int begins = 0;
  int ends = 0;
  int expires = 0;
  core::FlowKey lastFlow;
  core::Dir lastDir = core::Dir::C2S;
  int failShifts = 0;                       // the next n shifted() calls fail
  std::vector<core::FlowKey> shiftedFlows;  // successful shifted() calls
  std::function<void()> onShifted;          // called first by every shifted() call
};

}  // namespace ftpalg::test
