#include "daemon/queue_worker.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <string>

#include "ftpalg/report/event_json.h"
#include "ftpalg/core/packet.h"

namespace ftpalg::daemon {
namespace {

constexpr uint64_t kExpireIntervalNs = 1'000'000'000;
constexpr size_t kMaxBatch = 64;             // packets per receive batch (one verdict sendmsg)
constexpr size_t kMaxPending = 64;           // failed admits retried on retransmission
constexpr size_t kMaxMarked = 16384;         // liberal-marked control connections per thread
constexpr size_t kScratchBytes = 65535 + 256;

uint64_t clockNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t monotonicNs() { return clockNs(CLOCK_MONOTONIC); }

void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

std::string endpointText(const core::Endpoint& e) {
  std::array<char, 64> buf{};
  return std::string(buf.data(), core::formatEndpoint(e, buf));
}

std::string ipText(const core::IpAddr& a) {
  std::array<char, 64> buf{};
  return std::string(buf.data(), core::formatIp(a, buf));
}

std::string flowText(const core::FlowKey& f) {
  return endpointText(f.client) + "-" + endpointText(f.server);
}

bool sameFlow(const core::FlowKey& a, const core::FlowKey& b) { return a == b; }

}  // namespace

bool CtEntryResolver::resolve(const core::FlowKey& /*flow*/, core::NatBinding& out) {
  if (ct_ == nullptr || !ct_->natted()) return false;
  out.clientInside = ct_->orig.src.addr;
  out.serverInside = ct_->orig.dst.addr;
  out.serverOutside = ct_->reply.src.addr;
  out.clientOutside = ct_->reply.dst.addr;
  return true;
}

template <typename... Args>
void QueueWorker::limited(RateLimit& rl, LogLevel level, uint64_t nowNs,
                          fmt::format_string<Args...> f, Args&&... args) {
  if (!logEnabled(level)) return;
  uint64_t suppressed = 0;
  if (!rl.allow(nowNs, suppressed)) return;
  std::string line = fmt::format("queue {}: ", settings_.queue.queueNum);
  line += fmt::format(f, std::forward<Args>(args)...);
  if (suppressed != 0) line += fmt::format(" ({} similar messages suppressed)", suppressed);
  logLine(level, line);
}

QueueWorker::QueueWorker(const WorkerSettings& settings, EventSink& events)
    : settings_(settings),
      events_(events),
      socket_(settings.queue),
      pinholes_(settings.pinhole),
      engine_(settings.engine, settings.expectationMode
                                   ? static_cast<core::NatResolver*>(&ctResolver_)
                                   : static_cast<core::NatResolver*>(&conntrack_)),
      held_(settings.heldCapacity),
      scratch_(kScratchBytes) {
  pending_.reserve(kMaxPending);
  marked_.reserve(1024);
  if (settings_.expectationMode) {
    // One entry per control connection with expectations created within the policy timeout;
    // the engine never has more sessions than maxSessions.
    expectedFlows_.reserve(std::max<size_t>(settings_.engine.maxSessions, 1));
    expectsPerFlow_ = std::clamp<size_t>(settings_.engine.maxExpectationsPerSession, 1,
                                         kMaxTrackedPerFlow);
  }
  realtimeOffsetNs_ =
      static_cast<int64_t>(clockNs(CLOCK_REALTIME)) - static_cast<int64_t>(monotonicNs());
}

QueueWorker::~QueueWorker() = default;

kernel::Status QueueWorker::open() {
  if (settings_.expectationMode) {
    if (kernel::Status s = expectations_.open(); !s.ok()) return s;
  } else if (kernel::Status s = conntrack_.open(); !s.ok()) {
    return s;
  }
  return socket_.open();
}

bool QueueWorker::isControlPort(uint16_t port) const {
  for (uint16_t p : settings_.engine.controlPorts) {
    if (p != 0 && p == port) return true;
  }
  return false;
}

void QueueWorker::verdict(uint32_t id, kernel::NfVerdict v, std::span<const uint8_t> packet) {
  if (v == kernel::NfVerdict::Drop) bump(stats_.dropped);
  // Expectation mode: a new payload goes with an NFQA_CT nest, or the kernel does not apply
  // seqadj to a length change and the connection breaks.
  const bool withCt = settings_.expectationMode && !packet.empty();
  if (kernel::Status s = socket_.verdict(id, v, packet, withCt); !s.ok()) {
    limited(errorLog_, LogLevel::Error, monotonicNs(), "{}", s.message());
  }
}

void QueueWorker::onPacket(const kernel::QueuedPacket& packet) {
  bump(stats_.packets);
  const uint64_t now = monotonicNs();
  const core::PacketParse pp = core::parsePacket(packet.payload);
  if (pp.error != core::PacketError::None) {
    // Not a packet the engine can read (the rules queue only TCP to/from control ports, and
    // conntrack has reassembled fragments): forward it unchanged, count it.
    bump(stats_.parseErrors);
    limited(parseLog_, LogLevel::Debug, now, "unparsable packet id {} ({}), accepted", packet.id,
            core::packetErrorName(pp.error));
    verdict(packet.id, kernel::NfVerdict::Accept);
    return;
  }
  if (!engine_.isControl(pp.view)) {
    bump(stats_.nonControl);
    verdict(packet.id, kernel::NfVerdict::Accept);
    return;
  }
  if (!settings_.expectationMode) {
    const core::PacketView& v = pp.view;
    actions_.clear();
    engine_.onSegment(core::Segment{&v, packet.id}, now, actions_);
    apply(now, &packet, &v);
    return;
  }
  // Expectation mode: only connections the ruleset assigned to the helper are queued, each
  // packet with its conntrack entry, after NAT. Without a readable entry nothing can be
  // expected: forward the packet uninspected (it opens nothing) and count it.
  core::PacketView v;
  hasCurrentCt_ = parseCtAttr(packet.ct, pp.view.family, currentCt_) && normalise(pp.view, v);
  if (!hasCurrentCt_) {
    bump(stats_.noConntrack);
    limited(parseLog_, LogLevel::Warning, now,
            "packet id {} without a usable conntrack entry ({} bytes of NFQA_CT), accepted",
            packet.id, packet.ct.size());
    verdict(packet.id, kernel::NfVerdict::Accept);
    return;
  }
  ctResolver_.set(&currentCt_);
  actions_.clear();
  engine_.onSegment(core::Segment{&v, packet.id}, now, actions_);
  apply(now, &packet, &v);
  trackEnd(v, now);
  ctResolver_.set(nullptr);
  hasCurrentCt_ = false;
}

bool QueueWorker::normalise(const core::PacketView& raw, core::PacketView& out) const {
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

void QueueWorker::apply(uint64_t nowNs, const kernel::QueuedPacket* current,
                        const core::PacketView* view) {
  // 1. Events: pinholes before any verdict can release the line that announced them.
  std::array<uint64_t, core::Actions::kMaxEvents> dropHandles{};
  size_t dropCount = 0;
  for (size_t i = 0; i < actions_.eventCount; ++i) {
    const core::Event& ev = actions_.events[i];
    if (!applyEvent(ev, nowNs)) dropHandles[dropCount++] = ev.handle;
    logEvent(ev, nowNs);
  }
  // A pinhole that failed earlier: its line may come back as a retransmission, which the engine
  // rewrites from its history without a new event. Retry the pinhole; while it still fails,
  // keep dropping what this packet releases.
  bool dropReleased = false;
  core::FlowKey flow{};
  core::Dir dir = core::Dir::C2S;
  if (view != nullptr) {
    dir = isControlPort(view->dport) ? core::Dir::C2S : core::Dir::S2C;
    const core::Endpoint src{view->src, view->sport};
    const core::Endpoint dst{view->dst, view->dport};
    flow = dir == core::Dir::C2S ? core::FlowKey{src, dst} : core::FlowKey{dst, src};
    if (!pending_.empty() && !view->payload.empty()) dropReleased = !retryPending(flow, dir, nowNs);
  }

  // 2. Packet verdicts.
  bool currentDone = false;
  for (size_t i = 0; i < actions_.packetCount; ++i) {
    const core::PacketAction& a = actions_.packets[i];
    const auto id = static_cast<uint32_t>(a.handle);
    const bool isCurrent = current != nullptr && id == current->id;
    currentDone = currentDone || isCurrent;
    core::PacketVerdict v = a.verdict;
    if (v == core::PacketVerdict::Accept || v == core::PacketVerdict::Rewrite) {
      const bool announcementFailed =
          std::find(dropHandles.begin(), dropHandles.begin() + static_cast<std::ptrdiff_t>(dropCount),
                    a.handle) != dropHandles.begin() + static_cast<std::ptrdiff_t>(dropCount);
      if (announcementFailed || dropReleased) v = core::PacketVerdict::Drop;
    }
    const std::vector<uint8_t>* heldBytes = isCurrent ? nullptr : held_.find(id);
    if (!isCurrent && heldBytes == nullptr) {
      // The engine released a packet we could not keep (pool full: already dropped).
      bump(stats_.unknownHandles);
      limited(anomalyLog_, LogLevel::Warning, nowNs, "verdict for unknown packet id {}", id);
      continue;
    }
    const std::span<const uint8_t> bytes =
        isCurrent ? current->payload : std::span<const uint8_t>(*heldBytes);
    switch (v) {
      case core::PacketVerdict::Accept:
        verdict(id, kernel::NfVerdict::Accept);
        break;
      case core::PacketVerdict::Drop:
        verdict(id, kernel::NfVerdict::Drop);
        break;
      case core::PacketVerdict::Hold:
        if (isCurrent) {
          if (held_.put(id, bytes)) {
            bump(stats_.held);
          } else {
            // Fail closed: without a copy this packet could never be released rewritten.
            bump(stats_.poolFull);
            limited(anomalyLog_, LogLevel::Warning, nowNs,
                    "held packet pool full ({} packets), dropping id {}", held_.capacity(), id);
            verdict(id, kernel::NfVerdict::Drop);
          }
        }
        continue;  // a re-hold of an already held packet changes nothing
      case core::PacketVerdict::Rewrite: {
        const core::PacketParse pp = core::parsePacket(bytes);
        size_t n = 0;
        if (pp.error == core::PacketError::None && a.sackCount == pp.view.sackCount) {
          n = core::rebuildPacket(bytes, pp.view, a.seq, a.ack,
                                  std::span<const core::SackBlock>(a.sack.data(), a.sackCount),
                                  a.payload, scratch_);
        }
        if (n == 0) {
          bump(stats_.rebuildFailures);
          limited(anomalyLog_, LogLevel::Warning, nowNs, "cannot rebuild packet id {}, dropped",
                  id);
          verdict(id, kernel::NfVerdict::Drop);
        } else {
          bump(stats_.rewritten);
          verdict(id, kernel::NfVerdict::Accept, std::span<const uint8_t>(scratch_.data(), n));
        }
        break;
      }
    }
    if (!isCurrent) {
      held_.erase(id);
      stats_.held.store(held_.size(), std::memory_order_relaxed);
    }
  }
  if (current != nullptr && !currentDone) {
    // The engine gives every segment a verdict; should it not, the packet must not stay queued
    // forever: forward it unchanged.
    bump(stats_.unknownHandles);
    limited(anomalyLog_, LogLevel::Warning, nowNs, "no verdict for packet id {}, accepted",
            current->id);
    verdict(current->id, kernel::NfVerdict::Accept);
  }
  if (view != nullptr && (view->flags & (core::TcpFin | core::TcpRst)) != 0) unmark(flow);
}

bool QueueWorker::applyEvent(const core::Event& ev, uint64_t nowNs) {
  if (ev.verdict == core::Verdict::Refuse) bump(stats_.refused);
  if (ev.verdict != core::Verdict::Admit) return true;
  if (ev.hasRewritten && !settings_.expectationMode) markLiberal(ev.flow, nowNs);
  if (!ev.hasExpect) return true;
  if (kernel::Status s = admit(ev.expect); !s.ok()) {
    bump(stats_.pinholeFailures);
    limited(errorLog_, LogLevel::Error, nowNs,
            "{} for {} -> {} failed: {}; dropping the announcement (flow {})",
            settings_.expectationMode ? "expectation" : "pinhole", ipText(ev.expect.src.addr),
            endpointText(ev.expect.dst), s.message(), flowText(ev.flow));
    if (pending_.size() == kMaxPending) pending_.erase(pending_.begin());
    pending_.push_back(PendingAdmit{ev.flow, ev.dir, ev.expect, nowNs});
    return false;
  }
  bump(stats_.admitted);
  if (settings_.expectationMode) rememberExpect(ev.flow, ev.expect, nowNs);
  return true;
}

kernel::Status QueueWorker::admit(const core::Expectation& x) {
  if (!settings_.expectationMode) return pinholes_.admit(x);
  // Fail closed: an announcement seen without its packet's conntrack entry (e.g. released by a
  // timer) has no master to hang the expectation on.
  if (!hasCurrentCt_) return kernel::Status::error(ENOENT, "expect: no conntrack entry at hand");
  return expectations_.add(currentCt_, x);
}

bool QueueWorker::retryPending(const core::FlowKey& flow, core::Dir dir, uint64_t nowNs) {
  bool ok = true;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!sameFlow(it->flow, flow) || it->dir != dir) {
      ++it;
      continue;
    }
    if (kernel::Status s = admit(it->expect); !s.ok()) {
      bump(stats_.pinholeFailures);
      limited(errorLog_, LogLevel::Error, nowNs, "pinhole retry for {} failed: {}",
              endpointText(it->expect.dst), s.message());
      ok = false;
      ++it;
    } else {
      bump(stats_.admitted);
      if (settings_.expectationMode) rememberExpect(it->flow, it->expect, nowNs);
      logf(LogLevel::Info, "queue {}: pinhole for {} installed on retry", settings_.queue.queueNum,
           endpointText(it->expect.dst));
      it = pending_.erase(it);
    }
  }
  return ok;
}

void QueueWorker::rememberExpect(const core::FlowKey& flow, const core::Expectation& x,
                                 uint64_t nowNs) {
  ExpectedFlow* e = nullptr;
  for (ExpectedFlow& f : expectedFlows_) {
    if (sameFlow(f.flow, flow)) {
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

void QueueWorker::trackEnd(const core::PacketView& view, uint64_t nowNs) {
  if (expectedFlows_.empty()) return;
  const bool c2s = isControlPort(view.dport);
  const core::Endpoint src{view.src, view.sport};
  const core::Endpoint dst{view.dst, view.dport};
  const core::FlowKey flow = c2s ? core::FlowKey{src, dst} : core::FlowKey{dst, src};
  for (size_t i = 0; i < expectedFlows_.size(); ++i) {
    ExpectedFlow& f = expectedFlows_[i];
    if (!sameFlow(f.flow, flow)) continue;
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

void QueueWorker::removeExpects(size_t i, const char* why, uint64_t nowNs) {
  const ExpectedFlow& f = expectedFlows_[i];
  size_t removed = 0;
  size_t gone = 0;
  size_t failed = 0;
  for (size_t k = 0; k < f.count; ++k) {
    const core::Expectation& x = f.expects[k];
    if (kernel::Status s = expectations_.remove(x); s.ok()) {
      ++removed;
    } else if (s.err() == ENOENT) {
      ++gone;  // used by its data connection, or expired
    } else {
      ++failed;
      limited(removeLog_, LogLevel::Error, nowNs, "removing expectation {} -> {} of flow {}: {}",
              ipText(x.src.addr), endpointText(x.dst), flowText(f.flow), s.message());
    }
  }
  bump(stats_.expectationsRemoved, removed);
  if (failed != 0) bump(stats_.expectationRemoveFailures, failed);
  if (logEnabled(LogLevel::Debug)) {
    logf(LogLevel::Debug,
         "queue {}: control connection {} ended ({}): removed {} outstanding expectation(s), {} "
         "already gone, {} failed",
         settings_.queue.queueNum, flowText(f.flow), why, removed, gone, failed);
  }
  expectedFlows_[i] = expectedFlows_.back();
  expectedFlows_.pop_back();
}

void QueueWorker::markLiberal(const core::FlowKey& flow, uint64_t nowNs) {
  for (MarkedFlow& m : marked_) {
    if (sameFlow(m.flow, flow)) {
      m.lastNs = nowNs;
      return;
    }
  }
  if (kernel::Status s = conntrack_.setLiberal(flow); !s.ok()) {
    // Not marked: the next rewrite of this session tries again.
    bump(stats_.liberalFailures);
    limited(errorLog_, LogLevel::Error, nowNs, "liberal tracking for {}: {}", flowText(flow),
            s.message());
    return;
  }
  if (marked_.size() == kMaxMarked) marked_.erase(marked_.begin());
  marked_.push_back(MarkedFlow{flow, nowNs});
}

void QueueWorker::unmark(const core::FlowKey& flow) {
  std::erase_if(marked_, [&](const MarkedFlow& m) { return sameFlow(m.flow, flow); });
}

void QueueWorker::logEvent(const core::Event& ev, uint64_t nowNs) {
  if (events_.enabled()) {
    core::Event wall = ev;  // JSON carries wall-clock time; the engine runs on CLOCK_MONOTONIC
    wall.tsNs = static_cast<uint64_t>(static_cast<int64_t>(ev.tsNs) + realtimeOffsetNs_);
    cli::appendEventJson(wall, json_);
    json_.push_back('\n');
  }
  const std::string_view kind = core::eventKindName(ev.kind);
  const std::string announced = ev.hasAnnounced ? endpointText(ev.announced) : "-";
  switch (ev.verdict) {
    case core::Verdict::Admit: {
      if (!logEnabled(LogLevel::Info)) return;
      std::string text = fmt::format("admit {} {}", kind, announced);
      if (ev.hasRewritten) text += fmt::format(" -> {} (rewritten)", endpointText(ev.rewritten));
      if (ev.hasExpect) {
        const core::Expectation& x = ev.expect;
        text += fmt::format(" {} {}:{} -> {}",
                            settings_.expectationMode ? "expect" : "pinhole", ipText(x.src.addr),
                            x.srcPortAny ? std::string("any") : std::to_string(x.src.port),
                            endpointText(x.dst));
        if (!(x.natTo == x.dst)) text += fmt::format(" nat-to {}", endpointText(x.natTo));
      }
      text += fmt::format(" flow {}", flowText(ev.flow));
      limited(admitLog_, LogLevel::Info, nowNs, "{}", text);
      return;
    }
    case core::Verdict::Refuse:
      limited(refuseLog_, LogLevel::Warning, nowNs, "refuse {} {} ({}{}{}) flow {}", kind, announced,
              core::reasonName(ev.reason),
              ev.parseError != core::ParseError::None ? ": " : "",
              ev.parseError != core::ParseError::None ? core::parseErrorName(ev.parseError) : "",
              flowText(ev.flow));
      return;
    case core::Verdict::Pass: {
      const bool anomaly = ev.kind == core::EventKind::Evasion ||
                           ev.kind == core::EventKind::Malformed ||
                           ev.kind == core::EventKind::Desync;
      limited(anomaly ? anomalyLog_ : admitLog_, anomaly ? LogLevel::Warning : LogLevel::Info,
              nowNs, "{} ({}) flow {}", kind, core::reasonName(ev.reason), flowText(ev.flow));
      return;
    }
  }
}

void QueueWorker::flushBatch() {
  if (kernel::Status s = socket_.flush(); !s.ok()) {
    limited(errorLog_, LogLevel::Error, monotonicNs(), "{}", s.message());
  }
  if (json_.size() != 0) {
    events_.write(std::string_view(json_.data(), json_.size()));
    json_.clear();
  }
}

void QueueWorker::expire(uint64_t nowNs) {
  bool more = true;
  while (more) {
    actions_.clear();
    more = engine_.expire(nowNs, actions_);
    apply(nowNs, nullptr, nullptr);
  }
  stats_.sessions.store(engine_.sessionCount(), std::memory_order_relaxed);
  // Sessions end on FIN/RST (seen above) or by expiry inside the engine; forget liberal marks
  // of connections idle longer than the engine keeps sessions.
  const uint64_t idle = settings_.engine.idleTimeoutNs;
  std::erase_if(marked_, [&](const MarkedFlow& m) { return nowNs - m.lastNs > idle; });
  const uint64_t expectTimeout = settings_.engine.expectTimeoutNs;
  std::erase_if(pending_, [&](const PendingAdmit& p) { return nowNs - p.sinceNs > expectTimeout; });
  // Expectation mode: a control connection the engine expired (idle) ends like one closed by
  // FIN/RST; one whose expectations all outlived the helper policy's timeout has nothing
  // outstanding (the kernel expired them): forget it.
  for (size_t i = 0; i < expectedFlows_.size();) {
    const ExpectedFlow& f = expectedFlows_[i];
    if (nowNs - f.lastNs > idle) {
      removeExpects(i, "idle", nowNs);
    } else if (nowNs - f.newestNs > expectTimeout + kExpireIntervalNs) {
      expectedFlows_[i] = expectedFlows_.back();
      expectedFlows_.pop_back();
    } else {
      ++i;
    }
  }
}

void QueueWorker::run(const std::atomic<bool>& stop) {
  uint64_t lastExpire = monotonicNs();
  while (!stop.load(std::memory_order_relaxed)) {
    // A blocking receive (up to the socket's receive timeout), then drain what else is queued
    // without blocking, so one sendmsg carries the verdicts of the whole batch.
    kernel::ReceiveResult r = kernel::ReceiveResult::Empty;
    kernel::Status s = socket_.receive(false, *this, r);
    size_t batch = 1;
    while (s.ok() && (r == kernel::ReceiveResult::Packets || r == kernel::ReceiveResult::Overrun) &&
           batch < kMaxBatch) {
      s = socket_.receive(true, *this, r);
      ++batch;
    }
    if (!s.ok()) limited(errorLog_, LogLevel::Error, monotonicNs(), "{}", s.message());
    flushBatch();
    const uint64_t now = monotonicNs();
    if (now - lastExpire >= kExpireIntervalNs) {
      lastExpire = now;
      expire(now);
      flushBatch();
    }
  }
  // Shutdown: held packets carry (part of) a line that was never inspected in full. Fail
  // closed: drop them; their senders retransmit to whatever handles the queue next (or, with
  // the daemon gone, to the rule's bypass decision).
  for (uint32_t id : held_.ids()) {
    verdict(id, kernel::NfVerdict::Drop);
    held_.erase(id);
  }
  stats_.held.store(0, std::memory_order_relaxed);
  flushBatch();
}

}  // namespace ftpalg::daemon
