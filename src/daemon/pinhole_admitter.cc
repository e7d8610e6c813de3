#include "daemon/pinhole_admitter.h"

#include <cerrno>
#include <random>
#include <utility>

#include "daemon/text.h"

namespace ftpalg::daemon {
namespace {

constexpr size_t kMaxMarked = 16384;  // liberal-marked control connections per thread
// Timeout of a restored entry: the kernel's ESTABLISHED default (the next packet of the session
// sets the configured one anyway); what matters is that the RST's 10 s CLOSE timeout goes.
constexpr uint32_t kRestoredTimeoutS = 432000;

}  // namespace

PinholeAdmitter::PinholeAdmitter(std::unique_ptr<PinholeBackend> pinholes,
                                 std::unique_ptr<ConntrackBackend> conntrack,
                                 uint64_t idleTimeoutNs, WorkerLog& log)
    : log_(log),
      idleTimeoutNs_(idleTimeoutNs),
      pinholes_(std::move(pinholes)),
      conntrack_(std::move(conntrack)),
      resolver_(*conntrack_, log, ConntrackResolver::gatewayAddresses),
      marked_(kMaxMarked, uint64_t{std::random_device{}()} << 32 | std::random_device{}()) {}

bool PinholeAdmitter::begin(const kernel::QueuedPacket& packet, const core::PacketView& raw,
                            core::PacketView& view) {
  view = raw;
  markFailed_ = false;
  resolver_.setPacket(packet.ct, raw.family);
  return true;
}

Status PinholeAdmitter::admit(const core::FlowKey& /*flow*/, const core::Expectation& x,
                              uint64_t nowNs) {
  // A pending withdrawal of one of x's keys must not delete it afterwards: done first.
  if (withdrawals_ != nullptr) {
    if (const size_t n = withdrawals_->settle(x, *pinholes_, outcomes_); n != 0) {
      bump(log_.stats().withdrawOrdered, n);
      reportOutcomes(nowNs);
    }
  }
  return pinholes_->admit(x);
}

void PinholeAdmitter::deferWithdrawals(std::unique_ptr<WithdrawQueue> q) {
  withdrawals_ = std::move(q);
  outcomes_.reserve(WithdrawQueue::kBatch);
}

bool PinholeAdmitter::withdrawLater(const core::Event& ev, uint64_t /*nowNs*/) {
  if (withdrawals_ == nullptr) return false;
  if (!withdrawals_->post(Withdrawal{ev.flow, ev.expect, ev.reason})) {
    bump(log_.stats().withdrawSyncFallbacks);
    return false;
  }
  bump(log_.stats().withdrawDeferred);
  return true;
}

void PinholeAdmitter::verdictsFlushed(uint64_t nowNs) {
  if (withdrawals_ == nullptr) return;
  withdrawals_->kick();
  withdrawals_->collect(outcomes_);
  reportOutcomes(nowNs);
}

void PinholeAdmitter::drain(uint64_t nowNs) {
  if (withdrawals_ == nullptr) return;
  withdrawals_->drain();
  withdrawals_->collect(outcomes_);
  reportOutcomes(nowNs);
}

void PinholeAdmitter::reportOutcomes(uint64_t nowNs) {
  for (const WithdrawOutcome& o : outcomes_) {
    reportWithdrawal(log_, name(), o.withdrawal, o.status, nowNs);
  }
  outcomes_.clear();
  log_.stats().withdrawPending.store(withdrawals_->pending(), std::memory_order_relaxed);
  if (formLogged_ || withdrawals_->deleteForm() == kernel::DeleteForm::Unknown) return;
  formLogged_ = true;
  logf(LogLevel::Info, "queue {}: withdrawals off the packet path, deleting with {}",
       log_.queueNum(),
       withdrawals_->deleteForm() == kernel::DeleteForm::Destroy
           ? "NFT_MSG_DESTROYSETELEM (one transaction per batch)"
           : "NFT_MSG_DELSETELEM (kernel before 6.3: one more transaction when elements are gone)");
}

Status PinholeAdmitter::withdraw(const core::FlowKey& /*flow*/, const core::Expectation& x,
                                 uint64_t /*nowNs*/) {
  return pinholes_->withdraw(x);
}

void PinholeAdmitter::rewritten(const core::FlowKey& flow, uint64_t nowNs) {
  if (markFailed_) return;  // shifted() failed for this packet already: the next rewrite retries
  (void)shifted(flow, nowNs);
}

bool PinholeAdmitter::shifted(const core::FlowKey& flow, uint64_t nowNs) {
  if (MarkedFlow* m = marked_.find(flow)) {
    m->lastNs = nowNs;
    return true;
  }
  const kernel::CtTuple orig = resolver_.originalTuple(flow);
  if (Status s = conntrack_->setLiberal(orig); !s.ok()) {
    // Not marked: the next rewrite of this session tries again.
    (void)log_.fail(Failure::LiberalFailed, nowNs, "liberal tracking for {}: {}", flowText(flow),
                    s.message());
    markFailed_ = true;
    return false;
  }
  marked_.add(MarkedFlow{flow, nowNs, orig});
  return true;
}

void PinholeAdmitter::rstIgnored(const core::FlowKey& flow, uint64_t nowNs) {
  if (const MarkedFlow* m = marked_.find(flow)) {
    rstIgnored_ = true;
    // Conntrack accepted the RST on the liberal entry before the queue saw it and moved the
    // entry to CLOSE: after 10 s a fresh, non-liberal entry would pick up the shifted stream
    // mid-way and count it INVALID.
    if (Status s = conntrack_->restoreEstablished(m->orig, kRestoredTimeoutS); !s.ok()) {
      (void)log_.fail(Failure::RestoreFailed, nowNs, "ESTABLISHED again for {}: {}", flowText(flow),
                      s.message());
      return;
    }
    bump(log_.stats().rstRestored);
    return;
  }
}

void PinholeAdmitter::end(const core::PacketView& view, const core::FlowKey& flow,
                          core::Dir /*dir*/, uint64_t /*nowNs*/) {
  resolver_.clearPacket();
  const bool ignored = std::exchange(rstIgnored_, false);
  if ((view.flags & (core::TcpFin | core::TcpRst)) == 0 || ignored) return;
  marked_.erase(flow);
}

void PinholeAdmitter::expire(uint64_t nowNs) {
  // Sessions end on FIN/RST (see end()) or by expiry inside the engine; forget liberal marks
  // of connections idle longer than the engine keeps sessions.
  marked_.expire(nowNs, idleTimeoutNs_);
}

bool PinholeAdmitter::sessionAlive(const core::FlowKey& flow, const core::NatBinding& nat) {
  const kernel::CtTuple dialled{flow.client, core::Endpoint{nat.serverInside, flow.server.port}};
  for (const kernel::CtTuple& t : {dialled, kernel::CtTuple{flow.client, flow.server}}) {
    core::NatBinding b;
    const kernel::NatLookupResult r = conntrack_->lookupNat(t, b);
    if (r.outcome != kernel::NatLookup::Failed || r.status.err() != ENOENT) return true;
  }
  return false;
}

}  // namespace ftpalg::daemon
