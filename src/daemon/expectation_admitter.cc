#include "daemon/expectation_admitter.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "daemon/log.h"
#include "daemon/text.h"

namespace ftpalg::daemon {

bool CtEntryResolver::resolve(const core::FlowKey& flow, core::NatBinding& out) {
  if (ct_ == nullptr || !ct_->natted()) return false;
  out.clientInside = ct_->orig.src.addr;
  out.serverInside = ct_->orig.dst.addr;
  out.serverOutside = ct_->reply.src.addr;
  out.clientOutside = ct_->reply.dst.addr;
  // After a restart the kernel's seqadj still holds what the predecessor's rewrites shifted;
  // a session picked up mid-stream starts from it (C2S = original direction).
  out.priorDelta = {ct_->seqOffsetOrig, ct_->seqOffsetReply};
  if ((ct_->seqOffsetOrig != 0 || ct_->seqOffsetReply != 0) && logEnabled(LogLevel::Debug)) {
    logf(LogLevel::Debug,
         "control connection {}: picked up with the kernel's seqadj shifting it by {:+} (c2s) "
         "and {:+} (s2c) bytes",
         flowText(flow), ct_->seqOffsetOrig, ct_->seqOffsetReply);
  }
  return true;
}

ExpectationAdmitter::ExpectationAdmitter(std::unique_ptr<ExpectationBackend> expectations,
                                         const core::EngineConfig& engine, WorkerLog& log)
    : log_(log),
      idleTimeoutNs_(engine.idleTimeoutNs),
      expectTimeoutNs_(engine.expectTimeoutNs),
      expectations_(std::move(expectations)) {
  // One entry per control connection with expectations created within the policy timeout;
  // the engine never has more sessions than maxSessions.
  expectedFlows_.reserve(std::max<size_t>(engine.maxSessions, 1));
  expectsPerFlow_ = std::clamp<size_t>(engine.maxExpectationsPerSession, 1, kMaxTrackedPerFlow);
  shiftedCts_.reserve(kMaxShiftedPerBatch);
}

bool ExpectationAdmitter::shifted(const core::FlowKey& /*flow*/, uint64_t /*nowNs*/) {
  if (!hasCurrentCt_) return true;  // nothing to name; the kernel still adjusts the numbers
  if (std::find(shiftedCts_.begin(), shiftedCts_.end(), currentCt_.orig) == shiftedCts_.end() &&
      shiftedCts_.size() < kMaxShiftedPerBatch) {
    shiftedCts_.push_back(currentCt_.orig);
  }
  return true;
}

void ExpectationAdmitter::verdictsFlushed(uint64_t /*nowNs*/) {
  // Only the replication of the offsets depends on this: a failure costs a backup gateway the
  // session's seqadj, never the session here.
  for (const kernel::CtTuple& t : shiftedCts_) {
    if (Status s = expectations_->announce(t); !s.ok()) {
      logf(LogLevel::Warning, "control connection {} -> {}: announcing its seqadj: {}",
           endpointText(t.src), endpointText(t.dst), s.message());
    } else if (logEnabled(LogLevel::Debug)) {
      logf(LogLevel::Debug, "control connection {} -> {}: seqadj announced in an update event",
           endpointText(t.src), endpointText(t.dst));
    }
  }
  shiftedCts_.clear();
}

bool ExpectationAdmitter::begin(const kernel::QueuedPacket& packet, const core::PacketView& raw,
                                core::PacketView& view) {
  // Only connections the ruleset assigned to the helper are queued, each packet with its
  // conntrack entry, after NAT.
  hasCurrentCt_ = kernel::parseCtAttr(packet.ct, raw.family, currentCt_) && normalise(raw, view);
  if (hasCurrentCt_) resolver_.set(&currentCt_);
  return hasCurrentCt_;
}

bool ExpectationAdmitter::normalise(const core::PacketView& raw, core::PacketView& out) const {
  const kernel::CtTuple& o = currentCt_.orig;
  const kernel::CtTuple& r = currentCt_.reply;
  const core::Endpoint src{raw.src, raw.sport};
  const core::Endpoint dst{raw.dst, raw.dport};
  out = raw;
  // At the confirm hook both NATs are done: client -> server packets carry the reply tuple
  // reversed, server -> client packets the original tuple reversed.
  if ((src == r.dst && dst == r.src) || (src == o.src && dst == o.dst)) {
    out.src = o.src.addr;
    out.sport = o.src.port;
    out.dst = o.dst.addr;
    out.dport = o.dst.port;
    return true;
  }
  if ((src == o.dst && dst == o.src) || (src == r.src && dst == r.dst)) {
    out.src = o.dst.addr;
    out.sport = o.dst.port;
    out.dst = o.src.addr;
    out.dport = o.src.port;
    return true;
  }
  return false;
}

Status ExpectationAdmitter::admit(const core::FlowKey& flow, const core::Expectation& x,
                                  uint64_t nowNs) {
  // Fail closed: an announcement seen without its packet's conntrack entry (e.g. released by a
  // timer) has no master to hang the expectation on.
  if (!hasCurrentCt_) return Status::error(ENOENT, "expect: no conntrack entry at hand");
  Status s = expectations_->add(currentCt_, x);
  if (s.ok()) remember(flow, x, nowNs);
  return s;
}

Status ExpectationAdmitter::withdraw(const core::FlowKey& /*flow*/, const core::Expectation& x,
                                     uint64_t /*nowNs*/) {
  Status s = expectations_->remove(x);
  if (s.ok()) bump(log_.stats().expectationsRemoved);
  if (!s.ok() && s.err() == ENOENT) return {};
  return s;
}

void ExpectationAdmitter::remember(const core::FlowKey& flow, const core::Expectation& x,
                                   uint64_t nowNs) {
  ExpectedFlow* e = nullptr;
  for (ExpectedFlow& f : expectedFlows_) {
    if (f.flow == flow) {
      e = &f;
      break;
    }
  }
  if (e == nullptr) {
    if (expectedFlows_.size() == expectedFlows_.capacity()) {
      // Full (more helped connections with recent expectations than the engine has
      // sessions): forget the least recently active one; its expectations expire by timeout.
      auto oldest = std::min_element(
          expectedFlows_.begin(), expectedFlows_.end(),
          [](const ExpectedFlow& a, const ExpectedFlow& b) { return a.lastNs < b.lastNs; });
      *oldest = expectedFlows_.back();
      expectedFlows_.pop_back();
    }
    e = &expectedFlows_.emplace_back();
    e->flow = flow;
  }
  // An identical expectation replaces the kernel's (add): keep one record of it.
  for (size_t i = 0; i < e->count; ++i) {
    const core::Expectation& o = e->expects[i];
    if (o.src == x.src && o.dst == x.dst) {
      e->lastNs = e->newestNs = nowNs;
      return;
    }
  }
  e->expects[e->next] = x;
  e->next = static_cast<uint8_t>((e->next + 1) % expectsPerFlow_);
  if (e->count < expectsPerFlow_) ++e->count;
  e->lastNs = e->newestNs = nowNs;
}

void ExpectationAdmitter::end(const core::PacketView& view, const core::FlowKey& flow,
                              core::Dir dir, uint64_t nowNs) {
  resolver_.set(nullptr);
  hasCurrentCt_ = false;
  const bool c2s = dir == core::Dir::C2S;
  for (size_t i = 0; i < expectedFlows_.size(); ++i) {
    ExpectedFlow& f = expectedFlows_[i];
    if (!(f.flow == flow)) continue;
    f.lastNs = nowNs;
    if ((view.flags & core::TcpRst) != 0) {
      removeExpects(i, "rst", nowNs);
    } else if ((view.flags & core::TcpFin) != 0) {
      f.finDirs |= c2s ? 1 : 2;
      if (f.finDirs == 3) removeExpects(i, "fin", nowNs);
    }
    return;
  }
}

void ExpectationAdmitter::removeExpects(size_t i, const char* why, uint64_t nowNs) {
  const ExpectedFlow& f = expectedFlows_[i];
  size_t removed = 0;
  size_t gone = 0;
  size_t failed = 0;
  for (size_t k = 0; k < f.count; ++k) {
    const core::Expectation& x = f.expects[k];
    if (Status s = expectations_->remove(x); s.ok()) {
      ++removed;
    } else if (s.err() == ENOENT) {
      ++gone;  // used by its data connection, or expired
    } else {
      ++failed;
      (void)log_.fail(Failure::ExpectationRemoveFailed, nowNs,
                      "removing expectation {} -> {} of flow {}: {}", ipText(x.src.addr),
                      endpointText(x.dst), flowText(f.flow), s.message());
    }
  }
  bump(log_.stats().expectationsRemoved, removed);
  if (logEnabled(LogLevel::Debug)) {
    logf(LogLevel::Debug,
         "queue {}: control connection {} ended ({}): removed {} outstanding expectation(s), {} "
         "already gone, {} failed",
         log_.queueNum(), flowText(f.flow), why, removed, gone, failed);
  }
  expectedFlows_[i] = expectedFlows_.back();
  expectedFlows_.pop_back();
}

void ExpectationAdmitter::expire(uint64_t nowNs) {
  // A control connection the engine expired (idle) ends like one closed by FIN/RST; one whose
  // expectations all outlived the helper policy's timeout has nothing outstanding (the kernel
  // expired them): forget it.
  for (size_t i = 0; i < expectedFlows_.size();) {
    const ExpectedFlow& f = expectedFlows_[i];
    if (nowNs - f.lastNs > idleTimeoutNs_) {
      removeExpects(i, "idle", nowNs);
    } else if (nowNs - f.newestNs > expectTimeoutNs_ + kExpireIntervalNs) {
      expectedFlows_[i] = expectedFlows_.back();
      expectedFlows_.pop_back();
    } else {
      ++i;
    }
  }
}

}  // namespace ftpalg::daemon
