#include "daemon/event_log.h"

#include <iterator>
#include <string>

#include "daemon/clock.h"
#include "daemon/journal_fields.h"
#include "daemon/text.h"
#include "ftpalg/report/event_json.h"

namespace ftpalg::daemon {

EventLog::EventLog(EventSink& sink, WorkerLog& log, std::string_view admitWord,
                   const EventBudgetConfig& budget)
    : sink_(sink), log_(log), admitWord_(admitWord), budget_(budget, monotonicNs()) {
  realtimeOffsetNs_ =
      static_cast<int64_t>(clockNs(CLOCK_REALTIME)) - static_cast<int64_t>(monotonicNs());
}

void EventLog::record(const core::Event& ev, uint64_t nowNs) {
  if (!budget_.take(ev.flow, nowNs)) {
    bump(log_.stats().eventsSuppressed);
    return;
  }
  if (sink_.enabled()) {
    core::Event wall = ev;  // JSON carries wall-clock time; the engine runs on CLOCK_MONOTONIC
    wall.tsNs = static_cast<uint64_t>(static_cast<int64_t>(ev.tsNs) + realtimeOffsetNs_);
    report::appendEventJson(wall, json_);
    json_.push_back('\n');
  }
  if (journal_ != nullptr) {
    // One entry per event, budgeted like the file; info-level classes follow log_level.
    if (priorityOf(classify(ev)) < 6 || logEnabled(LogLevel::Info)) {
      entries_.push_back(journalFields(ev, admitWord_, log_.queueNum()));
    }
    return;
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
        text += fmt::format(" {} {}:{} -> {}", admitWord_, ipText(x.src.addr),
                            x.srcPortAny ? std::string("any") : std::to_string(x.src.port),
                            endpointText(x.dst));
        if (!(x.natTo == x.dst)) text += fmt::format(" nat-to {}", endpointText(x.natTo));
      }
      text += fmt::format(" flow {}", flowText(ev.flow));
      log_.limited(LogSite::Admit, LogLevel::Info, nowNs, "{}", text);
      return;
    }
    case core::Verdict::Refuse:
      log_.limited(
          LogSite::Refuse, LogLevel::Warning, nowNs, "refuse {} {} ({}{}{}) flow {}", kind,
          announced, core::reasonName(ev.reason),
          ev.parseError != core::ParseError::None ? ": " : "",
          ev.parseError != core::ParseError::None ? core::parseErrorName(ev.parseError) : "",
          flowText(ev.flow));
      return;
    case core::Verdict::Pass: {
      const bool anomaly = ev.kind == core::EventKind::Evasion ||
                           ev.kind == core::EventKind::Malformed ||
                           ev.kind == core::EventKind::Desync;
      log_.limited(anomaly ? LogSite::Anomaly : LogSite::Admit,
                   anomaly ? LogLevel::Warning : LogLevel::Info, nowNs, "{} ({}) flow {}", kind,
                   core::reasonName(ev.reason), flowText(ev.flow));
      return;
    }
  }
}

void EventLog::expire(uint64_t nowNs) {
  const EventBudget::Suppressed s = budget_.takeSuppressed();
  if (s.total() == 0) return;
  if (sink_.enabled()) {
    const auto us = static_cast<uint64_t>(static_cast<int64_t>(nowNs) + realtimeOffsetNs_) / 1000;
    fmt::format_to(std::back_inserter(json_),
                   "{{\"ts\":{}.{:06},\"kind\":\"suppressed\",\"count\":{},\"by_session\":{},"
                   "\"by_global\":{},\"queue\":{}}}\n",
                   us / 1'000'000, us % 1'000'000, s.total(), s.bySession, s.byGlobal,
                   log_.queueNum());
  }
  if (journal_ != nullptr) {
    entries_.push_back(suppressedFields(s.bySession, s.byGlobal, log_.queueNum()));
    return;
  }
  log_.limited(LogSite::Refuse, LogLevel::Warning, nowNs,
               "{} events suppressed ({} over a session's budget, {} over the queue's)", s.total(),
               s.bySession, s.byGlobal);
}

void EventLog::flush() {
  if (!entries_.empty()) {
    journal_->write(std::move(entries_));
    entries_.clear();
  }
  if (json_.size() != 0) {
    sink_.write(std::string_view(json_.data(), json_.size()));
    json_.clear();
  }
}

}  // namespace ftpalg::daemon
