#include "daemon/queue_worker.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <utility>

#include "daemon/clock.h"
#include "daemon/expectation_admitter.h"
#include "daemon/non_control.h"
#include "daemon/pinhole_admitter.h"
#include "daemon/text.h"
#include "daemon/withdraw_queue.h"
#include "ftpalg/core/packet.h"

namespace ftpalg::daemon {
namespace {

constexpr size_t kMaxBatch = 64;    // packets per receive batch (one verdict sendmsg)
constexpr size_t kMaxPending = 64;  // failed admits retried on retransmission
constexpr size_t kScratchBytes = 65535 + 256;

// The one place the kernel mode is chosen.
std::unique_ptr<Admitter> makeAdmitter(const WorkerSettings& s, WorkerLog& log) {
  if (s.expectationMode) {
    return std::make_unique<ExpectationAdmitter>(kernelExpectations(), s.engine, log);
  }
  auto a = std::make_unique<PinholeAdmitter>(
      kernelPinholes(s.pinhole), kernelConntrack(s.sessionMark), s.engine.idleTimeoutNs, log);
  a->setStateLabels(s.stateLabels, s.stateLabelBit);
  // Ended sessions' withdrawals on a thread with its own nf_tables socket (withdraw_queue.h).
  if (s.withdrawQueue > 0) {
    a->deferWithdrawals(std::make_unique<WithdrawQueue>(
        kernelPinholes(s.pinhole), s.withdrawQueue,
        s.withdrawAfterBatch ? WithdrawQueue::Serving::Kick : WithdrawQueue::Serving::Thread));
  }
  return a;
}

// Both modes take each packet's conntrack entry (NFQA_CT): expectation mode hangs expectations
// on it (and cannot work without), pinhole mode reads a new session's NAT binding from it
// instead of querying conntrack, where the kernel can attach it.
std::unique_ptr<KernelQueue> kernelQueue(const WorkerSettings& s) {
  kernel::QueueConfig q = s.queue;
  q.conntrack = true;
  return std::make_unique<KernelQueue>(q, !s.expectationMode);
}

// Snapshots are kept in pinhole mode only: in expectation mode the kernel's seqadj holds the
// offsets.
bool persists(const WorkerSettings& s) { return !s.expectationMode && !s.stateDir.empty(); }
bool labels(const WorkerSettings& s) { return !s.expectationMode && s.stateLabels; }

core::EngineConfig engineConfig(const WorkerSettings& s) {
  core::EngineConfig c = s.engine;
  c.persistSessions = persists(s) || labels(s);  // both keep what Actions::states reports
  c.resolvePickedUp = labels(s);                 // offsets from the labels, first segment on
  return c;
}

}  // namespace

QueueWorker::QueueWorker(const WorkerSettings& settings, EventSink& events)
    : QueueWorker(settings, events, kernelQueue(settings), nullptr,
                  [&settings](WorkerLog& log) { return makeAdmitter(settings, log); }) {}

QueueWorker::QueueWorker(const WorkerSettings& settings, EventSink& events, PacketQueue& queue,
                         const AdmitterFactory& makeAdmitter)
    : QueueWorker(settings, events, nullptr, &queue, makeAdmitter) {}

QueueWorker::QueueWorker(const WorkerSettings& settings, EventSink& events,
                         std::unique_ptr<PacketQueue> ownedQueue, PacketQueue* queue,
                         const AdmitterFactory& makeAdmitter)
    : settings_(settings),
      log_(settings.queue.queueNum, stats_),
      ownedQueue_(std::move(ownedQueue)),
      queue_(queue != nullptr ? *queue : *ownedQueue_),
      admitterPtr_(makeAdmitter(log_)),
      admitter_(*admitterPtr_),
      events_(events, log_, admitter_.eventWord()),
      engine_(engineConfig(settings), admitter_.natResolver()),
      held_(settings.heldCapacity),
      scratch_(kScratchBytes),
      store_(persists(settings) ? settings.stateDir : std::string()),
      snapshot_(store_.enabled() ? core::kMaxSnapshotBytes : 0) {
  pending_.reserve(kMaxPending);
  if (labels(settings)) {
    labels_ = std::make_unique<CtStatePublisher>(
        settings.stateLabelBit, kernelLabelWriter(),
        [this](const core::FlowKey& f) { return admitter_.entryTuple(f); }, log_);
  }
}

QueueWorker::~QueueWorker() = default;

Status QueueWorker::open() {
  if (Status s = admitter_.open(); !s.ok()) return s;
  if (settings_.watchLocalAddresses) {
    local_ = std::make_unique<kernel::LocalAddresses>();
    if (Status s = local_->open(); !s.ok()) {
      logf(LogLevel::Warning, "queue {}: the gateway's own addresses are unknown ({})",
           settings_.queue.queueNum, s.message());
      local_.reset();
    } else {
      applyLocalAddresses();
    }
  }
  // Stored sessions first: no packet of theirs may be released before they are back.
  if (Status s = adoptStored(); !s.ok()) return s;
  return queue_.open();
}

Status QueueWorker::adoptStored() {
  if (!store_.enabled()) return {};
  if (Status s = store_.open(); !s.ok()) return s;
  const uint64_t start = monotonicNs();
  size_t adopted = 0;
  size_t refused = 0;
  size_t gone = 0;
  Status s = store_.forEach([&](std::string_view name, std::span<const uint8_t> bytes) {
    core::FlowKey flow;
    core::NatBinding nat;
    if (core::snapshotFlow(bytes, flow, nat) == core::SnapshotError::None &&
        !admitter_.sessionAlive(flow, nat)) {
      ++gone;  // ended while no daemon ran (or belongs to another network namespace)
      (void)store_.eraseName(name);
      return;
    }
    const core::SnapshotError e = engine_.adoptSession(bytes, monotonicNs());
    if (e == core::SnapshotError::None) {
      ++adopted;
      return;
    }
    ++refused;
    logf(LogLevel::Warning, "queue {}: session snapshot {} refused ({}), removed",
         settings_.queue.queueNum, name, core::snapshotErrorName(e));
    (void)store_.eraseName(name);
  });
  if (!s.ok()) return s;
  logf(LogLevel::Info,
       "queue {}: adopted {} stored sessions from {} ({} refused, {} without a conntrack "
       "entry) in {} us",
       settings_.queue.queueNum, adopted, store_.dir(), refused, gone,
       (monotonicNs() - start) / 1000);
  stats_.sessions.store(engine_.sessionCount(), std::memory_order_relaxed);
  return {};
}

void QueueWorker::persistStates(uint64_t nowNs) {
  if (labels_) labels_->apply(actions_, engine_, nowNs);
  for (size_t i = 0; i < actions_.stateCount && store_.enabled(); ++i) {
    const core::StateChange& c = actions_.states[i];
    Status s;
    if (c.erase) {
      s = store_.erase(c.flow);
    } else if (const size_t n = engine_.saveSession(c.flow, snapshot_); n != 0) {
      s = store_.store(c.flow, std::span<const uint8_t>(snapshot_.data(), n));
    } else {
      s = Status::error("session snapshot does not fit");
    }
    if (!s.ok()) {
      (void)log_.fail(Failure::StateWriteFailed, nowNs, "session {}: {}", flowText(c.flow),
                      s.message());
    }
  }
}

void QueueWorker::applyLocalAddresses() {
  std::array<core::IpAddr, 8> all = settings_.engine.gatewayAddresses;
  const kernel::LocalAddressList& l = local_->list();
  size_t used = 0;
  std::string text;
  for (size_t i = 0, j = 0; i < l.count; ++i) {
    while (j < all.size() && all[j].family != core::Family::None) ++j;
    if (j == all.size()) break;
    all[j] = l.addrs[i];
    ++used;
    text += (text.empty() ? "" : ", ") + ipText(l.addrs[i]);
  }
  engine_.setGatewayAddresses(all);
  logf(LogLevel::Info, "queue {}: gateway addresses refused as data endpoints: {} ({} not kept)",
       settings_.queue.queueNum, text.empty() ? "-" : text, l.count - used + l.skipped);
}

bool QueueWorker::isControlPort(uint16_t port) const {
  for (uint16_t p : settings_.engine.controlPorts) {
    if (p != 0 && p == port) return true;
  }
  return false;
}

void QueueWorker::verdict(uint32_t id, kernel::NfVerdict v, std::span<const uint8_t> packet) {
  if (v == kernel::NfVerdict::Drop) bump(stats_.dropped);
  verdictTimer_.issued(held_.receivedNs(id, receivedNs_));
  const bool withCt = admitter_.verdictWithCt() && !packet.empty();
  if (Status s = queue_.verdict(id, v, packet, withCt); !s.ok()) {
    (void)log_.fail(Failure::VerdictFailed, monotonicNs(), "{}", s.message());
  }
}

void QueueWorker::failVerdict(uint32_t id, FailVerdict v) {
  switch (v) {
    case FailVerdict::Accept:
      verdict(id, kernel::NfVerdict::Accept);
      return;
    case FailVerdict::Drop:
      verdict(id, kernel::NfVerdict::Drop);
      return;
    case FailVerdict::Unchanged:
      return;
  }
}

void QueueWorker::onPacket(const kernel::QueuedPacket& packet) {
  bump(stats_.packets);
  const uint64_t now = monotonicNs();
  receivedNs_ = now;
  const core::PacketParse pp = core::parsePacket(packet.payload);
  if (pp.error != core::PacketError::None) {
    failVerdict(packet.id,
                log_.fail(Failure::ParseError, now, "unparsable packet id {} ({}), accepted",
                          packet.id, core::packetErrorName(pp.error)));
    return;
  }
  if (!engine_.isControl(pp.view)) {
    bump(stats_.nonControl);
    noteNonControl(packet, pp.view, stats_, log_.queueNum());
    verdict(packet.id, kernel::NfVerdict::Accept);
    return;
  }
  core::PacketView v;
  if (!admitter_.begin(packet, pp.view, v)) {
    failVerdict(packet.id,
                log_.fail(Failure::NoConntrack, now,
                          "packet id {} without a usable conntrack entry ({} bytes of NFQA_CT), "
                          "accepted",
                          packet.id, packet.ct.size()));
    return;
  }
  const core::Dir dir = isControlPort(v.dport) ? core::Dir::C2S : core::Dir::S2C;
  const core::Endpoint src{v.src, v.sport};
  const core::Endpoint dst{v.dst, v.dport};
  const core::FlowKey flow =
      dir == core::Dir::C2S ? core::FlowKey{src, dst} : core::FlowKey{dst, src};
  actions_.clear();
  // RSTs the engine did not act on: out of window, or in window but not exact (its session
  // kept, reset pending): conntrack's CLOSE cut is undone for both.
  const auto rstKept = [this] {
    return engine_.counter(core::Counter::RstOutOfWindow) +
           engine_.counter(core::Counter::RstChallenged);
  };
  const uint64_t rstIgnored = rstKept();
  engine_.onSegment(core::Segment{&v, packet.id}, now, actions_);
  if (rstKept() != rstIgnored) {
    admitter_.rstIgnored(flow, now);
  }
  apply(now, &packet, &v, flow, dir);
  admitter_.end(v, flow, dir, now);
}

void QueueWorker::apply(uint64_t nowNs, const kernel::QueuedPacket* current,
                        const core::PacketView* view, const core::FlowKey& flow, core::Dir dir) {
  // 1. Events: admits before any verdict can release the line that announced them.
  FailedAdmits failed;
  // A shifted stream is marked first (also when its announcement's event comes later).
  if (view != nullptr && actions_.streamShifted) markShifted(flow, nowNs);
  for (size_t i = 0; i < actions_.eventCount; ++i) {
    const core::Event& ev = actions_.events[i];
    if (!applyEvent(ev, nowNs)) failed.handles[failed.count++] = ev.handle;
    metrics_.events.count(ev);
    events_.record(ev, nowNs);
    recent_.record(ev);
  }
  // An admit that failed earlier: its line may come back as a retransmission, which the engine
  // rewrites from its history without a new event. Retry the admit; while it still fails,
  // keep dropping what this packet releases.
  if (view != nullptr && !pending_.empty() && !view->payload.empty()) {
    failed.dropReleased = !retryPending(flow, dir, nowNs);
  }
  // Snapshots before verdicts: whatever reaches the wire, a successor finds the state it
  // implies (the verdicts leave in the batch's sendmsg, after this).
  persistStates(nowNs);
  // 2. Packet verdicts.
  bool currentDone = false;
  for (size_t i = 0; i < actions_.packetCount; ++i) {
    const core::PacketAction& a = actions_.packets[i];
    const bool isCurrent = current != nullptr && static_cast<uint32_t>(a.handle) == current->id;
    currentDone = currentDone || isCurrent;
    applyPacket(a, isCurrent ? current : nullptr, failed, nowNs);
  }
  if (current != nullptr && !currentDone) {
    failVerdict(current->id, log_.fail(Failure::MissingVerdict, nowNs,
                                       "no verdict for packet id {}, accepted", current->id));
  }
}

bool QueueWorker::FailedAdmits::drops(uint64_t handle) const {
  const auto end = handles.begin() + static_cast<std::ptrdiff_t>(count);
  return dropReleased || std::find(handles.begin(), end, handle) != end;
}

void QueueWorker::applyPacket(const core::PacketAction& a, const kernel::QueuedPacket* current,
                              const FailedAdmits& failed, uint64_t nowNs) {
  const auto id = static_cast<uint32_t>(a.handle);
  core::PacketVerdict v = a.verdict;
  if ((v == core::PacketVerdict::Accept || v == core::PacketVerdict::Rewrite) &&
      failed.drops(a.handle)) {
    v = core::PacketVerdict::Drop;
  }
  const std::vector<uint8_t>* heldBytes = current != nullptr ? nullptr : held_.find(id);
  if (current == nullptr && heldBytes == nullptr) {
    failVerdict(id,
                log_.fail(Failure::UnknownHandle, nowNs, "verdict for unknown packet id {}", id));
    return;
  }
  const std::span<const uint8_t> bytes =
      current != nullptr ? current->payload : std::span<const uint8_t>(*heldBytes);
  switch (v) {
    case core::PacketVerdict::Accept:
      verdict(id, kernel::NfVerdict::Accept);
      break;
    case core::PacketVerdict::Drop:
      verdict(id, kernel::NfVerdict::Drop);
      break;
    case core::PacketVerdict::Hold:
      if (current != nullptr) hold(id, bytes, nowNs);
      return;  // a re-hold of an already held packet changes nothing
    case core::PacketVerdict::Rewrite:
      rewrite(a, bytes, nowNs);
      break;
  }
  if (current == nullptr) {
    held_.erase(id);
    stats_.held.store(held_.size(), std::memory_order_relaxed);
  }
}

void QueueWorker::hold(uint32_t id, std::span<const uint8_t> bytes, uint64_t nowNs) {
  if (held_.put(id, bytes, receivedNs_)) {
    bump(stats_.held);
  } else {
    failVerdict(
        id, log_.fail(Failure::PoolFull, nowNs,
                      "held packet pool full ({} packets), dropping id {}", held_.capacity(), id));
  }
}

void QueueWorker::rewrite(const core::PacketAction& a, std::span<const uint8_t> bytes,
                          uint64_t nowNs) {
  const auto id = static_cast<uint32_t>(a.handle);
  const core::PacketParse pp = core::parsePacket(bytes);
  size_t n = 0;
  if (pp.error == core::PacketError::None && a.sackCount == pp.view.sackCount) {
    n = core::rebuildPacket(bytes, pp.view, a.seq, a.ack,
                            std::span<const core::SackBlock>(a.sack.data(), a.sackCount), a.payload,
                            scratch_);
  }
  if (n == 0) {
    failVerdict(
        id, log_.fail(Failure::RebuildFailed, nowNs, "cannot rebuild packet id {}, dropped", id));
  } else {
    bump(stats_.rewritten);
    verdict(id, kernel::NfVerdict::Accept, std::span<const uint8_t>(scratch_.data(), n));
  }
}

bool QueueWorker::applyEvent(const core::Event& ev, uint64_t nowNs) {
  if (ev.kind == core::EventKind::Withdraw && ev.hasExpect) {
    withdraw(ev, nowNs);
    return true;
  }
  if (ev.verdict == core::Verdict::Refuse) bump(stats_.refused);
  if (ev.verdict != core::Verdict::Admit) return true;
  if (ev.hasRewritten) admitter_.rewritten(ev.flow, nowNs);
  if (!ev.hasExpect) return true;
  if (Status s = admitter_.admit(ev.flow, ev.expect, nowNs); !s.ok()) {
    const FailVerdict v = log_.fail(
        Failure::AdmitFailed, nowNs,
        "{} for {} -> {} failed: {}; dropping the announcement (flow {})", admitter_.name(),
        ipText(ev.expect.src.addr), endpointText(ev.expect.dst), s.message(), flowText(ev.flow));
    if (pending_.size() == kMaxPending) pending_.erase(pending_.begin());
    pending_.push_back(PendingAdmit{ev.flow, ev.dir, ev.expect, nowNs});
    return v != FailVerdict::Drop;
  }
  bump(stats_.admitted);
  return true;
}

void QueueWorker::withdraw(const core::Event& ev, uint64_t nowNs) {
  // Never installed: forget the retry.
  std::erase_if(pending_, [&](const PendingAdmit& p) {
    return p.flow == ev.flow && p.expect.src == ev.expect.src && p.expect.dst == ev.expect.dst;
  });
  // An ended session's withdrawal precedes no verdict: off the packet path where the admitter
  // can. A refused command's goes now, before its reply is released.
  if (ev.reason == core::Reason::SessionEnded && admitter_.withdrawLater(ev, nowNs)) return;
  reportWithdrawal(log_, admitter_.name(), Withdrawal{ev.flow, ev.expect, ev.reason},
                   admitter_.withdraw(ev.flow, ev.expect, nowNs), nowNs);
}

// The queue rules let pure ACKs of unmarked sessions bypass the queue (docs/daemon.md, "ACK
// bypass"): a session the engine just shifted is marked before any verdict releases a shifted
// packet (the ShiftMarkFailed row says what a failure does).
void QueueWorker::markShifted(const core::FlowKey& flow, uint64_t nowNs) {
  if (admitter_.shifted(flow, nowNs)) return;
  (void)log_.fail(Failure::ShiftMarkFailed, nowNs, "session {} shifted but not marked",
                  flowText(flow));
}

bool QueueWorker::retryPending(const core::FlowKey& flow, core::Dir dir, uint64_t nowNs) {
  bool ok = true;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!(it->flow == flow) || it->dir != dir) {
      ++it;
      continue;
    }
    if (Status s = admitter_.admit(it->flow, it->expect, nowNs); !s.ok()) {
      const FailVerdict v =
          log_.fail(Failure::AdmitRetryFailed, nowNs, "pinhole retry for {} failed: {}",
                    endpointText(it->expect.dst), s.message());
      ok = ok && v != FailVerdict::Drop;
      ++it;
    } else {
      bump(stats_.admitted);
      logf(LogLevel::Info, "queue {}: pinhole for {} installed on retry", settings_.queue.queueNum,
           endpointText(it->expect.dst));
      it = pending_.erase(it);
    }
  }
  return ok;
}

void QueueWorker::flushBatch() {
  if (Status s = queue_.flush(); !s.ok()) {
    (void)log_.fail(Failure::FlushFailed, monotonicNs(), "{}", s.message());
  }
  admitter_.verdictsFlushed(monotonicNs());
  if (verdictTimer_.pending() != 0) verdictTimer_.flushed(monotonicNs());
  events_.flush();
}

void QueueWorker::expire(uint64_t nowNs) {
  bool more = true;
  while (more) {
    actions_.clear();
    more = engine_.expire(nowNs, actions_);
    apply(nowNs, nullptr, nullptr, core::FlowKey{}, core::Dir::C2S);
  }
  stats_.sessions.store(engine_.sessionCount(), std::memory_order_relaxed);
  (void)limits_.report(engine_, log_, nowNs);
  events_.expire(nowNs);
  const uint64_t expectTimeout = settings_.engine.expectTimeoutNs;
  std::erase_if(pending_, [&](const PendingAdmit& p) { return nowNs - p.sinceNs > expectTimeout; });
  admitter_.expire(nowNs);
  if (local_ != nullptr && local_->refresh()) applyLocalAddresses();
  expireOverrun(nowNs);
}

void QueueWorker::serveOnce() {
  if (std::optional<core::EngineConfig> next = policy_.take()) engine_.applyPolicy(*next);
  answerStatus(monotonicNs());
  // A blocking receive (up to the socket's receive timeout), then drain what else is queued
  // without blocking, so one sendmsg carries the verdicts of the whole batch.
  // ENOBUFS (Overrun) loses nothing already queued: the kernel never queues a packet whose
  // message it could not deliver, so the loop goes on reading what is there.
  kernel::ReceiveResult r = kernel::ReceiveResult::Empty;
  Status s = queue_.receive(false, *this, r);
  if (s.ok() && r == kernel::ReceiveResult::Overrun) onOverrun(monotonicNs());
  size_t batch = 1;
  while (s.ok() && (r == kernel::ReceiveResult::Packets || r == kernel::ReceiveResult::Overrun) &&
         batch < kMaxBatch) {
    s = queue_.receive(true, *this, r);
    if (s.ok() && r == kernel::ReceiveResult::Overrun) onOverrun(monotonicNs());
    ++batch;
  }
  if (!s.ok()) (void)log_.fail(Failure::ReceiveFailed, monotonicNs(), "{}", s.message());
  flushBatch();
  const uint64_t now = monotonicNs();
  if (now - lastExpireNs_ >= kExpireIntervalNs) {
    lastExpireNs_ = now;
    expire(now);
    flushBatch();
  }
  published_.publish(engine_);
  bump(stats_.rounds);
}

void QueueWorker::run(const std::atomic<bool>& stop) {
  lastExpireNs_ = monotonicNs();
  while (!stop.load(std::memory_order_relaxed)) serveOnce();
  shutdown();
}

void QueueWorker::shutdown() {
  // Held packets carry (part of) a line that was never inspected in full (see the
  // ShutdownHeld row of the failure policy).
  for (uint32_t id : held_.ids()) {
    failVerdict(
        id, log_.fail(Failure::ShutdownHeld, monotonicNs(), "held packet id {} at shutdown", id));
    held_.erase(id);
  }
  stats_.held.store(0, std::memory_order_relaxed);
  flushBatch();
  admitter_.drain(monotonicNs());  // withdrawals left for later: done before the worker goes
  published_.publish(engine_);
}

}  // namespace ftpalg::daemon
