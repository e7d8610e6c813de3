#include "daemon/admit_backends.h"

namespace ftpalg::daemon {
namespace {

class KernelPinholes final : public PinholeBackend {
 public:
  explicit KernelPinholes(const kernel::PinholeConfig& cfg) : table_(cfg) {}
  Status admit(const core::Expectation& x) override { return table_.admit(x); }
  Status withdraw(const core::Expectation& x) override { return table_.withdraw(x); }
  void withdrawMany(std::span<const core::Expectation> xs, std::span<Status> out) override {
    table_.withdrawMany(xs, out);
  }
  [[nodiscard]] kernel::DeleteForm deleteForm() const override { return table_.deleteForm(); }

 private:
  kernel::PinholeTable table_;
};

class KernelConntrack final : public ConntrackBackend {
 public:
  explicit KernelConntrack(uint32_t sessionMark) : sessionMark_(sessionMark) {}
  Status open() override { return ct_.open(); }
  kernel::NatLookupResult lookupNat(const kernel::CtTuple& orig, core::NatBinding& out) override {
    return ct_.lookupNat(orig, out);
  }
  [[nodiscard]] kernel::CtLabelBits lastLabels() const override { return ct_.lastLabels(); }
  kernel::NatLookupResult scanNat(const core::FlowKey& flow, core::NatBinding& out) override {
    return ct_.scanNat(flow, out);
  }
  Status setLiberal(const kernel::CtTuple& orig) override {
    return ct_.setLiberal(orig, sessionMark_);
  }
  Status restoreEstablished(const kernel::CtTuple& orig, uint32_t timeoutS) override {
    return ct_.restoreEstablished(orig, sessionMark_, timeoutS);
  }

 private:
  uint32_t sessionMark_;
  kernel::Conntrack ct_;
};

class KernelExpectations final : public ExpectationBackend {
 public:
  Status open() override {
    if (Status s = table_.open(); !s.ok()) return s;
    return ct_.open();
  }
  Status add(const kernel::CtEntry& master, const core::Expectation& x) override {
    return table_.add(master, x);
  }
  Status remove(const core::Expectation& x) override { return table_.remove(x); }
  Status announce(const kernel::CtTuple& orig) override { return ct_.announce(orig); }

 private:
  kernel::ExpectationTable table_;
  kernel::Conntrack ct_;
};

}  // namespace

std::unique_ptr<PinholeBackend> kernelPinholes(const kernel::PinholeConfig& cfg) {
  return std::make_unique<KernelPinholes>(cfg);
}

std::unique_ptr<ConntrackBackend> kernelConntrack(uint32_t sessionMark) {
  return std::make_unique<KernelConntrack>(sessionMark);
}

std::unique_ptr<ExpectationBackend> kernelExpectations() {
  return std::make_unique<KernelExpectations>();
}

}  // namespace ftpalg::daemon
