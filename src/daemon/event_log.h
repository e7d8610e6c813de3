// The events of one queue worker: each engine Event becomes a JSON line (the schema of
// `ftpalg replay --events`, with wall-clock timestamps) collected per receive batch and handed
// to the EventSink at once, and a log line (admit at info, refuse and anomalies at warning,
// rate-limited through the worker's log), or with a journal sink a structured journal entry
// instead of the log line (journal_fields.h). Events over their session's or the worker's budget
// (EventBudget) are neither written nor logged; once a second one "suppressed" line counts them.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "daemon/event_budget.h"
#include "daemon/event_sink.h"
#include "daemon/journal_sink.h"
#include "daemon/worker_log.h"
#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// Formats and collects the events of one worker thread.
class EventLog {
 public:
  // `admitWord` names an admit in log lines ("pinhole", "expect").
  EventLog(EventSink& sink, WorkerLog& log, std::string_view admitWord,
           const EventBudgetConfig& budget = {});

  // Appends the JSON line of `ev` to the batch and logs it, unless over budget.
  void record(const core::Event& ev, uint64_t nowNs);
  // Once a second: the "suppressed" line for what the budget refused since the last call.
  void expire(uint64_t nowNs);
  // Hands the batch's JSON lines to the sink.
  void flush();

 private:
  EventSink& sink_;
  WorkerLog& log_;
  std::string_view admitWord_;
  EventBudget budget_;
  fmt::memory_buffer json_;       // event lines of the current batch
  int64_t realtimeOffsetNs_ = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC, for event timestamps
  // Events as journal entries instead of log lines (log_target; journal_sink.h), per batch.
  JournalSink* journal_ = eventJournal();
  std::vector<JournalSink::Entry> entries_;
};

}  // namespace ftpalg::daemon
