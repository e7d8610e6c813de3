// Test support: the admitters' kernel backends without a kernel. Each records its calls and
// fails on request; FakeConntrack answers NAT lookups from a scripted result. Header-only (the
// interfaces live in the daemon library, which only the unit test binary links).
#pragma once

#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "daemon/admit_backends.h"

namespace ftpalg::test {

// Records admitted pinholes; fails the next `failures` admits with ENFILE.
class FakePinholes final : public daemon::PinholeBackend {
 public:
  Status admit(const core::Expectation& x) override {
    if (failures > 0) {
      --failures;
      return Status::error(ENFILE, "fake: pinhole set full");
    }
    admitted.push_back(x);
    return {};
  }
  Status withdraw(const core::Expectation& x) override {
    withdrawn.push_back(x);
    return {};
  }
  std::vector<core::Expectation> admitted;
  std::vector<core::Expectation> withdrawn;
  int failures = 0;
};

// NAT lookups answered with `outcome`/`binding`; liberal marks recorded. Both record the
// original tuple they were given as a FlowKey {orig.src, orig.dst}.
class FakeConntrack final : public daemon::ConntrackBackend {
 public:
  Status open() override { return {}; }
  kernel::NatLookupResult lookupNat(const kernel::CtTuple& orig, core::NatBinding& out) override {
    lookups.push_back(core::FlowKey{orig.src, orig.dst});
    if (outcome == kernel::NatLookup::Failed || (onlyDst && !(orig.dst == *onlyDst))) {
      return {kernel::NatLookup::Failed, Status::error(ENOENT, "fake: no entry"), {}};
    }
    out = binding;
    return {outcome, {}, {}};
  }
  // Table scans answered with `scanOutcome`/`binding`.
  kernel::NatLookupResult scanNat(const core::FlowKey& flow, core::NatBinding& out) override {
    scans.push_back(flow);
    if (scanCost.count() > 0) std::this_thread::sleep_for(scanCost);
    if (scanOutcome == kernel::NatLookup::Failed) {
      return {scanOutcome, Status::error(ENOENT, "fake: no entry"), {}};
    }
    out = binding;
    return {scanOutcome, {}, scanOrig};
  }
  Status setLiberal(const kernel::CtTuple& orig) override {
    if (liberalFailures > 0) {
      --liberalFailures;
      return Status::error(EIO, "fake: liberal flag not set");
    }
    liberal.push_back(core::FlowKey{orig.src, orig.dst});
    return {};
  }
  Status restoreEstablished(const kernel::CtTuple& orig, uint32_t timeoutS) override {
    if (restoreFailures > 0) {
      --restoreFailures;
      return Status::error(EIO, "fake: state not restored");
    }
    restored.push_back(core::FlowKey{orig.src, orig.dst});
    restoreTimeoutS = timeoutS;
    return {};
  }
  kernel::NatLookup outcome = kernel::NatLookup::NoNat;
  kernel::NatLookup scanOutcome = kernel::NatLookup::Failed;
  std::vector<core::FlowKey> scans;
  kernel::CtTuple scanOrig;               // the original tuple a successful scan reports
  std::chrono::milliseconds scanCost{0};  // how long each scan takes
  core::NatBinding binding;
  std::vector<core::FlowKey> lookups;
  std::vector<core::FlowKey> liberal;
  int liberalFailures = 0;
  std::vector<core::FlowKey> restored;  // restoreEstablished() calls, as lookups records them
  uint32_t restoreTimeoutS = 0;
  int restoreFailures = 0;
  // When set, only a lookup of this original destination finds an entry (ENOENT otherwise).
  std::optional<core::Endpoint> onlyDst;
};

// Records added and removed expectations; a remove of what was never added (or already
// removed) fails with ENOENT, like the kernel's; `removeError` fails every remove.
class FakeExpectations final : public daemon::ExpectationBackend {
 public:
  Status open() override { return {}; }
  Status add(const kernel::CtEntry& master, const core::Expectation& x) override {
    if (addFailures > 0) {
      --addFailures;
      return Status::error(EBUSY, "fake: clashing expectation");
    }
    masters.push_back(master);
    live.push_back(x);
    return {};
  }
  Status remove(const core::Expectation& x) override {
    removed.push_back(x);
    if (removeError != 0) return Status::error(removeError, "fake: remove");
    for (auto it = live.begin(); it != live.end(); ++it) {
      if (it->src == x.src && it->dst == x.dst) {
        live.erase(it);
        return {};
      }
    }
    return Status::error(ENOENT, "fake: no such expectation");
  }
  // Forgets `x` as the kernel does when the data connection arrives.
  void use(const core::Expectation& x) {
    std::erase_if(live,
                  [&](const core::Expectation& e) { return e.src == x.src && e.dst == x.dst; });
  }
  std::vector<kernel::CtEntry> masters;
  std::vector<core::Expectation> live;
  std::vector<core::Expectation> removed;
  int addFailures = 0;
  int removeError = 0;
};

}  // namespace ftpalg::test
