// What the admitters need of the kernel, as three small interfaces: implemented over the
// kernel adapters (PinholeTable, Conntrack, ExpectationTable; see admit_backends.cc) and, in the
// unit tests, by fakes. Each is used by one worker thread.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/conntrack.h"
#include "ftpalg/kernel/expectation.h"
#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// Pinhole mode: installs and withdraws pinholes (kernel::PinholeTable::admit/withdraw).
class PinholeBackend {
 public:
  virtual ~PinholeBackend() = default;
  virtual Status admit(const core::Expectation& x) = 0;
  virtual Status withdraw(const core::Expectation& x) = 0;
  // withdraw() for each of `xs` (out[i]: its outcome), in as few kernel transactions as the
  // implementation can (kernel::PinholeTable::withdrawMany).
  virtual void withdrawMany(std::span<const core::Expectation> xs, std::span<Status> out) {
    for (size_t i = 0; i < xs.size(); ++i) out[i] = withdraw(xs[i]);
  }
  // How the kernel deletes elements, once known (for a log line).
  [[nodiscard]] virtual kernel::DeleteForm deleteForm() const {
    return kernel::DeleteForm::Unknown;
  }
};

// Pinhole mode: NAT bindings and liberal tracking (kernel::Conntrack), each naming one entry by
// its original tuple (one GET); scanNat is the table scan ConntrackResolver rations for kernels
// that cannot attach a packet's entry to it.
class ConntrackBackend {
 public:
  virtual ~ConntrackBackend() = default;
  virtual Status open() = 0;
  virtual kernel::NatLookupResult lookupNat(const kernel::CtTuple& orig, core::NatBinding& out) = 0;
  virtual kernel::NatLookupResult scanNat(const core::FlowKey& flow, core::NatBinding& out) = 0;
  virtual Status setLiberal(const kernel::CtTuple& orig) = 0;
  // A liberal entry back to ESTABLISHED after an RST the engine ignored (timeout in seconds).
  virtual Status restoreEstablished(const kernel::CtTuple& orig, uint32_t timeoutS) = 0;
  // The conntrack labels of the entry the last lookupNat() or scanNat() found (conntrack_state;
  // zero when none, and in fakes that do not model labels).
  [[nodiscard]] virtual kernel::CtLabelBits lastLabels() const { return {}; }
};

// Expectation mode: conntrack expectations (kernel::ExpectationTable).
class ExpectationBackend {
 public:
  virtual ~ExpectationBackend() = default;
  virtual Status open() = 0;
  virtual Status add(const kernel::CtEntry& master, const core::Expectation& x) = 0;
  virtual Status remove(const core::Expectation& x) = 0;
  // Makes the kernel report control connection `orig` with its seqadj in a conntrack update
  // event (kernel::Conntrack::announce). Implementations without a kernel have nothing to do.
  virtual Status announce(const kernel::CtTuple& /*orig*/) { return {}; }
};

// The kernel implementations.
std::unique_ptr<PinholeBackend> kernelPinholes(const kernel::PinholeConfig& cfg);
// `sessionMark`: conntrack mark set together with liberal tracking (0: none).
std::unique_ptr<ConntrackBackend> kernelConntrack(uint32_t sessionMark = 0);
std::unique_ptr<ExpectationBackend> kernelExpectations();

}  // namespace ftpalg::daemon
