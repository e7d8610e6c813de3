#include "daemon/status_json.h"

#include <array>
#include <atomic>
#include <iterator>

#include "daemon/text.h"

namespace ftpalg::daemon {
namespace {

// Every WorkerStats counter by its JSON name (worker_stats.h says what each counts).
struct StatRow {
  std::string_view name;
  std::atomic<uint64_t> WorkerStats::*member;
};
constexpr StatRow kStatRows[] = {
    {"packets", &WorkerStats::packets},
    {"parse_errors", &WorkerStats::parseErrors},
    {"non_control", &WorkerStats::nonControl},
    {"rewritten", &WorkerStats::rewritten},
    {"dropped", &WorkerStats::dropped},
    {"admitted", &WorkerStats::admitted},
    {"refused", &WorkerStats::refused},
    {"pinhole_failures", &WorkerStats::pinholeFailures},
    {"no_conntrack", &WorkerStats::noConntrack},
    {"expectations_removed", &WorkerStats::expectationsRemoved},
    {"expectation_remove_failures", &WorkerStats::expectationRemoveFailures},
    {"liberal_failures", &WorkerStats::liberalFailures},
    {"nat_lookup_failures", &WorkerStats::natLookupFailures},
    {"rebuild_failures", &WorkerStats::rebuildFailures},
    {"unknown_handles", &WorkerStats::unknownHandles},
    {"pool_full", &WorkerStats::poolFull},
    {"held", &WorkerStats::held},
    {"sessions", &WorkerStats::sessions},
    {"limits_hit", &WorkerStats::limitsHit},
    {"events_suppressed", &WorkerStats::eventsSuppressed},
    {"withdrawn", &WorkerStats::withdrawn},
    {"withdraw_failures", &WorkerStats::withdrawFailures},
    {"overruns", &WorkerStats::overruns},
    {"socket_drops", &WorkerStats::socketDrops},
    {"rounds", &WorkerStats::rounds},
    {"rst_restored", &WorkerStats::rstRestored},
    {"restore_failures", &WorkerStats::restoreFailures},
    {"non_control_expected", &WorkerStats::nonControlExpected},
    {"label_writes", &WorkerStats::labelWrites},
    {"label_write_failures", &WorkerStats::labelWriteFailures},
    {"label_offsets_read", &WorkerStats::labelOffsetsRead},
    {"withdraw_deferred", &WorkerStats::withdrawDeferred},
    {"withdraw_sync_fallbacks", &WorkerStats::withdrawSyncFallbacks},
    {"withdraw_ordered", &WorkerStats::withdrawOrdered},
    {"withdraw_pending", &WorkerStats::withdrawPending},
};
static_assert(std::size(kStatRows) * sizeof(std::atomic<uint64_t>) == sizeof(WorkerStats),
              "one row per WorkerStats counter");

uint64_t load(const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); }

// Nanoseconds as seconds with millisecond precision; negative spans (already past) as 0.
void seconds(report::JsonWriter& w, uint64_t fromNs, uint64_t toNs) {
  w.fixed(toNs > fromNs ? (toNs - fromNs) / 1'000'000 : 0, 3);
}

void member(report::JsonWriter& w, std::string_view key, std::string_view value) {
  w.key(key);
  w.string(value);
}

void appendNat(report::JsonWriter& w, const core::SessionView& s) {
  w.key("nat");
  w.beginObject();
  w.key("resolved");
  w.boolean(s.natResolved);
  member(w, "client_inside", ipText(s.nat.clientInside));
  member(w, "client_outside", ipText(s.nat.clientOutside));
  member(w, "server_inside", ipText(s.nat.serverInside));
  member(w, "server_outside", ipText(s.nat.serverOutside));
  w.endObject();
}

void appendDirection(report::JsonWriter& w, std::string_view key, const core::DirectionView& d) {
  w.key(key);
  w.beginObject();
  w.key("bytes");
  w.number(d.bytes);
  w.key("offset");
  w.number(d.delta);
  w.key("live_splices");
  w.number(uint64_t{d.liveSplices});
  w.key("holding");
  w.boolean(d.holding);
  w.key("fin");
  w.boolean(d.fin);
  w.key("opaque");
  w.boolean(d.opaque);
  w.endObject();
}

void appendAnnouncement(report::JsonWriter& w, const core::AnnouncementView& a, uint64_t nowNs,
                        std::string_view kernelMode) {
  w.beginObject();
  member(w, "dir", a.dir == core::Dir::C2S ? "c2s" : "s2c");
  member(w, "admit", kernelMode);
  member(w, "src", ipText(a.expect.src.addr));
  w.key("src_port");
  if (a.expect.srcPortAny) {
    w.string("any");
  } else {
    w.number(uint64_t{a.expect.src.port});
  }
  member(w, "dst", endpointText(a.expect.dst));
  member(w, "nat_to", endpointText(a.expect.natTo));
  if (a.expect.hasSrcNat) member(w, "src_nat_to", ipText(a.expect.srcNatTo));
  w.key("awaiting_reply");
  w.boolean(a.awaitingReply);
  w.key("expires_in_s");
  seconds(w, nowNs, a.untilNs);
  w.endObject();
}

std::string_view stateOf(const core::SessionView& s) {
  if (s.closing) return "closing";
  return s.established ? "established" : "opening";
}

// Collects up to kMaxListedSessions sessions into one JSON array.
class ListVisitor : public core::SessionVisitor {
 public:
  ListVisitor(report::JsonWriter& w, uint64_t nowNs, std::string_view mode)
      : w_(w), now_(nowNs), mode_(mode) {}
  bool visit(const core::SessionView& s) override {
    appendSessionJson(w_, s, now_, mode_);
    return ++listed_ < kMaxListedSessions;
  }

 private:
  report::JsonWriter& w_;
  uint64_t now_;
  std::string_view mode_;
  size_t listed_ = 0;
};

}  // namespace

void appendSessionJson(report::JsonWriter& w, const core::SessionView& s, uint64_t nowNs,
                       std::string_view kernelMode) {
  w.beginObject();
  member(w, "flow", flowText(s.flow));
  member(w, "client", endpointText(s.flow.client));
  member(w, "server", endpointText(s.flow.server));
  appendNat(w, s);
  member(w, "kernel_mode", kernelMode);
  member(w, "login", core::loginStateName(s.login));
  member(w, "state", stateOf(s));
  w.key("epsv_all");
  w.boolean(s.epsvAll);
  w.key("idle_s");
  seconds(w, s.lastSeenNs, nowNs);
  w.key("expires_in_s");
  seconds(w, nowNs, s.expiresNs);
  w.key("rewrites");
  w.number(uint64_t{s.rewrites});
  appendDirection(w, "c2s", s.dir[0]);
  appendDirection(w, "s2c", s.dir[1]);
  w.key("announcements_total");
  w.number(uint64_t{s.announcementCount});
  w.key("announcements");
  w.beginArray();
  const size_t n = std::min(s.announcementCount, core::SessionView::kMaxAnnouncements);
  for (size_t i = 0; i < n; ++i) appendAnnouncement(w, s.announcements[i], nowNs, kernelMode);
  w.endArray();
  w.endObject();
}

void appendWorkerCounters(report::JsonWriter& w, const WorkerStats& stats) {
  w.beginObject();
  for (const StatRow& r : kStatRows) {
    w.key(r.name);
    w.number(load(stats.*r.member));
  }
  w.endObject();
}

void appendQueueLoad(report::JsonWriter& w, const WorkerStats& stats) {
  w.beginObject();
  for (std::string_view name :
       {"packets", "held", "sessions", "overruns", "socket_drops", "rounds"}) {
    for (const StatRow& r : kStatRows) {
      if (r.name != name) continue;
      w.key(r.name);
      w.number(load(stats.*r.member));
    }
  }
  w.endObject();
}

std::string sessionsAnswer(const core::Engine& engine, uint64_t nowNs,
                           std::string_view kernelMode) {
  fmt::memory_buffer out;
  report::JsonWriter w(out);
  w.beginObject();
  w.key("sessions_total");
  w.number(uint64_t{engine.sessionCount()});
  w.key("sessions");
  w.beginArray();
  ListVisitor v(w, nowNs, kernelMode);
  engine.viewSessions(v, nowNs);
  w.endArray();
  w.endObject();
  // Members only: the control thread writes them into the queue's object.
  return std::string(out.data() + 1, out.size() - 2);
}

std::string sessionAnswer(const core::Engine& engine, const RecentEvents& events,
                          const core::FlowKey& flow, uint64_t nowNs, int64_t realtimeOffsetNs,
                          std::string_view kernelMode) {
  core::SessionView view;
  const bool live = engine.viewSession(flow, nowNs, view);
  fmt::memory_buffer out;
  report::JsonWriter w(out);
  w.beginObject();
  w.key("session");
  if (live) {
    appendSessionJson(w, view, nowNs, kernelMode);
  } else {
    w.null();
  }
  w.key("events");
  w.beginArray();
  const size_t n = events.forFlow(flow, [&](const core::Event& ev) {
    core::Event wall = ev;
    wall.tsNs = static_cast<uint64_t>(static_cast<int64_t>(ev.tsNs) + realtimeOffsetNs);
    fmt::memory_buffer one;
    report::appendEventJson(wall, one);
    w.rawValue(std::string_view(one.data(), one.size()));
  });
  w.endArray();
  w.key("events_dropped");
  w.number(events.dropped(flow));
  w.endObject();
  if (!live && n == 0) return {};
  return std::string(out.data() + 1, out.size() - 2);
}

}  // namespace ftpalg::daemon

namespace ftpalg::daemon {
namespace {

void appendDaemon(report::JsonWriter& w, const DaemonInfo& info) {
  w.key("daemon");
  w.beginObject();
  w.key("pid");
  w.number(info.pid);
  member(w, "kernel_mode", info.kernelMode);
  w.key("uptime_s");
  w.fixed(info.uptimeNs / 1'000'000, 3);
  w.key("worker_timeout_ms");
  w.number(info.workerTimeoutMs);
  w.endObject();
}

// "queue", "answered" and, when it did not answer, "error".
void appendQueueHead(report::JsonWriter& w, const QueueAnswer& a, const DaemonInfo& info) {
  w.key("queue");
  w.number(uint64_t{a.queue});
  w.key("answered");
  w.boolean(a.answered);
  if (!a.answered) {
    member(w, "error",
           fmt::format("queue {} did not answer within {} ms (its thread is stuck "
                       "or overloaded)",
                       a.queue, info.workerTimeoutMs));
  }
}

// The engine's counters as an object {"segments":N,...} (every core::Counter, by its name).
void appendEngineCounters(report::JsonWriter& w, const EngineStats& e) {
  w.beginObject();
  for (size_t i = 0; i < e.counters.size(); ++i) {
    w.key(core::counterName(static_cast<core::Counter>(i)));
    w.number(e.counters[i]);
  }
  w.key("announcements_outstanding");
  w.number(e.announcements);
  w.endObject();
}

// The answer's members appended to the open object.
void appendMembers(fmt::memory_buffer& out, const std::string& members) {
  if (members.empty()) return;
  out.push_back(',');
  out.append(members.data(), members.data() + members.size());
}

}  // namespace

std::string statusResponse(const DaemonInfo& info, const std::vector<QueueAnswer>& answers) {
  fmt::memory_buffer out;
  report::JsonWriter w(out);
  w.beginObject();
  w.key("schema");
  w.number(int64_t{kStatusSchema});
  appendDaemon(w, info);
  w.key("queues");
  w.beginArray();
  for (const QueueAnswer& a : answers) {
    w.beginObject();
    appendQueueHead(w, a, info);
    w.key("load");
    appendQueueLoad(w, *a.stats);
    // Counter groups by source; more groups (e.g. "engine") may be added beside "worker".
    w.key("counters");
    w.beginObject();
    w.key("worker");
    appendWorkerCounters(w, *a.stats);
    if (a.engine != nullptr) {
      w.key("engine");
      appendEngineCounters(w, a.engine->read());
    }
    w.endObject();
    if (a.answered) appendMembers(out, a.members);
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return fmt::to_string(out);
}

std::string sessionResponse(const DaemonInfo& info, const core::FlowKey& flow,
                            const std::vector<QueueAnswer>& answers) {
  fmt::memory_buffer out;
  report::JsonWriter w(out);
  w.beginObject();
  w.key("schema");
  w.number(int64_t{kStatusSchema});
  member(w, "flow", flowText(flow));
  bool found = false;
  for (const QueueAnswer& a : answers) found = found || (a.answered && !a.members.empty());
  w.key("found");
  w.boolean(found);
  w.key("queues");
  w.beginArray();
  for (const QueueAnswer& a : answers) {
    if (a.answered && a.members.empty()) continue;
    w.beginObject();
    appendQueueHead(w, a, info);
    if (a.answered) appendMembers(out, a.members);
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return fmt::to_string(out);
}

std::string errorResponse(std::string_view code, std::string_view message) {
  fmt::memory_buffer out;
  report::JsonWriter w(out);
  w.beginObject();
  w.key("schema");
  w.number(int64_t{kStatusSchema});
  w.key("error");
  w.beginObject();
  member(w, "code", code);
  member(w, "message", message);
  w.endObject();
  w.endObject();
  return fmt::to_string(out);
}

}  // namespace ftpalg::daemon
