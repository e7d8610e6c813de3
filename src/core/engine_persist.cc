// Sessions that outlive the process: which ones a successor needs (reported in Actions::states
// as segments change them), their snapshots, and adopting them in a successor's engine.
#include <algorithm>
#include <iterator>
#include <utility>

#include "engine_impl.h"
#include "session_codec.h"
#include "session_snapshot.h"

namespace ftpalg::core {

void EngineImpl::addState(Actions& out, const FlowKey& flow, bool erase) {
  if (!cfg_.persistSessions || out.stateCount == Actions::kMaxStates) return;
  out.states[out.stateCount++] = StateChange{flow, erase};
}

void EngineImpl::notePersist(const SegmentIn& in, Actions& out) {
  Session* s = sessions_.find(in.key, in.hash);
  if (s == nullptr) return;  // ended: endSession() reported it
  const bool want = needsStoring(*s, pool_, in.now);
  // Bytes or a FIN move positions, pairing and stage; a bare acknowledgement changes nothing a
  // successor needs (acknowledged splices fold into the base without changing the mapping),
  // except, for conntrack_state (whose EngineConfig::resolvePickedUp also asks for this), one
  // acknowledging the last live splice: it settles the offsets the labels publish.
  bool settled = false;
  if (cfg_.resolvePickedUp) {
    const bool live = std::any_of(std::begin(s->dir), std::end(s->dir), [&](const DirState& ds) {
      const DirBuffer* b = pool_.get(ds);
      return b != nullptr && b->map.size() != 0;
    });
    settled = std::exchange(s->persistLive, live) && !live;
  }
  if (want && (in.len > 0 || in.fin || !s->persisted || settled)) {
    s->persisted = true;
    addState(out, s->key, false);
  } else if (!want && s->persisted) {
    s->persisted = false;
    addState(out, s->key, true);
  }
}

size_t EngineImpl::saveSession(const FlowKey& flow, std::span<uint8_t> out) {
  Session* s = sessions_.find(flow);
  if (s == nullptr) return 0;
  SessionSnapshot snap;
  capture(*s, pool_, snap);
  return encodeSnapshot(snap, out);
}

SnapshotError EngineImpl::adoptSession(std::span<const uint8_t> bytes, uint64_t now) {
  SessionSnapshot snap;
  if (const SnapshotError e = decodeSnapshot(bytes, snap); e != SnapshotError::None) return e;
  if (!isControlPort(snap.key.server.port)) return SnapshotError::NotControl;
  for (const DirSnapshot& d : snap.dir) {
    if (d.flight.size() > pool_.maxInFlight() || d.line.size() > cfg_.maxLine) {
      return SnapshotError::TooBig;
    }
  }
  if (sessions_.find(snap.key) != nullptr) return SnapshotError::Exists;
  Session* s = sessions_.create(snap.key, now);
  if (s == nullptr) return SnapshotError::TableFull;
  counters_.add(Counter::Sessions);
  counters_.add(Counter::SessionsAdopted);
  install(snap, *s, pool_, now, cfg_.expectTimeoutNs);
  if (s->established()) sessions_.promote(*s);
  return SnapshotError::None;
}

namespace {

constexpr std::string_view kSnapshotErrors[] = {
    "none",      "truncated",   "too_large", "bad_magic", "bad_version", "bad_checksum",
    "bad_field", "not_control", "too_big",   "exists",    "table_full",
};
static_assert(std::size(kSnapshotErrors) == static_cast<size_t>(SnapshotError::Count));

}  // namespace

SnapshotError snapshotFlow(std::span<const uint8_t> snapshot, FlowKey& flow, NatBinding& nat) {
  SessionSnapshot snap;
  const SnapshotError e = decodeSnapshot(snapshot, snap);
  if (e == SnapshotError::None) {
    flow = snap.key;
    nat = snap.nat;
  }
  return e;
}

std::string_view snapshotErrorName(SnapshotError e) {
  const auto i = static_cast<size_t>(e);
  return i < std::size(kSnapshotErrors) ? kSnapshotErrors[i] : "unknown";
}

size_t Engine::saveSession(const FlowKey& flow, std::span<uint8_t> out) const {
  return impl_->saveSession(flow, out);
}
SnapshotError Engine::adoptSession(std::span<const uint8_t> snapshot, uint64_t nowNs) {
  return impl_->adoptSession(snapshot, nowNs);
}

}  // namespace ftpalg::core
