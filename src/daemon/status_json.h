// The JSON of `ftpalg status` (docs/daemon.md, "Status"): a session view, a worker's counters
// and load, and the answers a queue worker gives to the control thread. Pure formatting over
// values; the worker calls the answer functions on its own thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/recent_events.h"
#include "daemon/stats_snapshot.h"
#include "daemon/worker_stats.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/core/session_view.h"
#include "ftpalg/report/event_json.h"

namespace ftpalg::daemon {

// Version of the status schema ("schema" in every response); added members keep it.
inline constexpr int kStatusSchema = 1;
// Sessions listed per queue in one answer (the count is always complete).
inline constexpr size_t kMaxListedSessions = 1000;

// One session; times relative to nowNs; kernelMode "pinhole" or "expectation".
void appendSessionJson(report::JsonWriter& w, const core::SessionView& s, uint64_t nowNs,
                       std::string_view kernelMode);
// The worker's counters as an object {"packets":N,...} (every WorkerStats member).
void appendWorkerCounters(report::JsonWriter& w, const WorkerStats& stats);
// Per-queue load: {"packets","held","sessions","overruns","socket_drops","rounds"}.
void appendQueueLoad(report::JsonWriter& w, const WorkerStats& stats);

// A worker's answer to "sessions": {"sessions_total":N,"sessions":[...]} (members only, no
// braces: the control thread puts them into the queue's object).
std::string sessionsAnswer(const core::Engine& engine, uint64_t nowNs, std::string_view kernelMode);
// A worker's answer to "session FLOW": "session":{...}|null,"events":[...],"events_dropped":N
// (members only); "" when the worker knows neither the session nor events of it. Event times
// are wall clock: realtimeOffsetNs is added to the engine's monotonic times.
std::string sessionAnswer(const core::Engine& engine, const RecentEvents& events,
                          const core::FlowKey& flow, uint64_t nowNs, int64_t realtimeOffsetNs,
                          std::string_view kernelMode);

}  // namespace ftpalg::daemon

namespace ftpalg::daemon {

// What the control thread got from one queue worker.
struct QueueAnswer {
  uint16_t queue = 0;
  const WorkerStats* stats = nullptr;
  bool answered = false;  // false: no answer before the deadline (the worker seems stuck)
  std::string members;    // the worker's answer (sessionsAnswer / sessionAnswer)
  // The engine's counters as last published (stats_snapshot.h); nullptr: no "engine" group.
  const StatsSnapshot* engine = nullptr;
};

// The daemon as a whole.
struct DaemonInfo {
  int64_t pid = 0;
  std::string kernelMode;  // "pinhole" or "expectation"
  uint64_t uptimeNs = 0;
  uint64_t workerTimeoutMs = 0;
};

// The response to "status": {"schema":1,"daemon":{...},"queues":[{"queue":N,"answered":true,
// "load":{...},"counters":{"worker":{...}},"sessions_total":N,"sessions":[...]}]}.
std::string statusResponse(const DaemonInfo& info, const std::vector<QueueAnswer>& answers);
// The response to "session FLOW": {"schema":1,"flow":"...","found":bool,"queues":[{"queue":N,
// "answered":true,"session":{...}|null,"events":[...],"events_dropped":N}]} (only queues
// that know the flow, and those that did not answer).
std::string sessionResponse(const DaemonInfo& info, const core::FlowKey& flow,
                            const std::vector<QueueAnswer>& answers);
// {"schema":1,"error":{"code":"...","message":"..."}}.
std::string errorResponse(std::string_view code, std::string_view message);

}  // namespace ftpalg::daemon
