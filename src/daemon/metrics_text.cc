#include "daemon/metrics_text.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <iterator>
#include <vector>

namespace ftpalg::daemon {
namespace {

// One WorkerStats field as a metric of its own.
struct StatsRow {
  std::atomic<uint64_t> WorkerStats::*field;
  std::string_view name;
  MetricType type;
  std::string_view help;
};

// clang-format off
constexpr StatsRow kStatsRows[] = {
    {&WorkerStats::packets, "ftpalg_queue_packets_total", MetricType::Counter,
     "Packets received from the queue."},
    {&WorkerStats::parseErrors, "ftpalg_queue_unparsable_packets_total", MetricType::Counter,
     "Packets that were not IP/TCP packets ftpalgd can read (accepted)."},
    {&WorkerStats::nonControl, "ftpalg_queue_non_control_packets_total", MetricType::Counter,
     "Packets not on a control port (accepted)."},
    {&WorkerStats::rewritten, "ftpalg_packets_rewritten_total", MetricType::Counter,
     "Packets forwarded with new bytes."},
    {&WorkerStats::dropped, "ftpalg_packets_dropped_total", MetricType::Counter,
     "Drop verdicts."},
    {&WorkerStats::admitted, "ftpalg_admit_installs_total", MetricType::Counter,
     "Pinholes or expectations installed (retries included)."},
    {&WorkerStats::pinholeFailures, "ftpalg_admit_failures_total", MetricType::Counter,
     "Pinholes or expectations that could not be installed (announcement dropped)."},
    {&WorkerStats::withdrawn, "ftpalg_admit_withdrawals_total", MetricType::Counter,
     "Admitted announcements withdrawn (server refused the command, session ended)."},
    {&WorkerStats::withdrawFailures, "ftpalg_admit_withdraw_failures_total", MetricType::Counter,
     "Withdrawals the kernel refused other than with 'gone already'."},
    {&WorkerStats::expectationsRemoved, "ftpalg_expectations_removed_total", MetricType::Counter,
     "Expectation mode: outstanding expectations deleted when their control connection ended."},
    {&WorkerStats::expectationRemoveFailures, "ftpalg_expectation_remove_failures_total",
     MetricType::Counter, "Expectation mode: deletions that failed other than with ENOENT."},
    {&WorkerStats::noConntrack, "ftpalg_no_conntrack_packets_total", MetricType::Counter,
     "Expectation mode: packets without a usable conntrack entry (accepted)."},
    {&WorkerStats::liberalFailures, "ftpalg_liberal_failures_total", MetricType::Counter,
     "Pinhole mode: rewritten sessions that could not be set to liberal TCP tracking."},
    {&WorkerStats::natLookupFailures, "ftpalg_nat_lookup_failures_total", MetricType::Counter,
     "Pinhole mode: NAT bindings conntrack could not give."},
    {&WorkerStats::rebuildFailures, "ftpalg_rebuild_failures_total", MetricType::Counter,
     "Rewritten packets that could not be rebuilt (dropped)."},
    {&WorkerStats::unknownHandles, "ftpalg_unknown_handles_total", MetricType::Counter,
     "Verdicts the engine gave for packets the worker does not have."},
    {&WorkerStats::poolFull, "ftpalg_held_pool_full_total", MetricType::Counter,
     "Packets to hold that found the held packet pool full (dropped)."},
    {&WorkerStats::held, "ftpalg_held_packets", MetricType::Gauge,
     "Packets held now (their verdict deferred until their line is complete)."},
    {&WorkerStats::eventsSuppressed, "ftpalg_events_suppressed_total", MetricType::Counter,
     "Events not written: over a session's or the worker's event budget."},
    {&WorkerStats::overruns, "ftpalg_queue_overruns_total", MetricType::Counter,
     "Receives from the queue socket that failed with ENOBUFS."},
    {&WorkerStats::socketDrops, "ftpalg_queue_socket_drops_total", MetricType::Counter,
     "Messages the kernel could not deliver to the queue socket (sk_drops, sampled each second)."},
    {&WorkerStats::rounds, "ftpalg_serve_rounds_total", MetricType::Counter,
     "Serve rounds completed by the queue's thread (its heartbeat)."},
    {&WorkerStats::rstRestored, "ftpalg_rst_restored_total", MetricType::Counter,
     "Pinhole mode: liberal entries put back to ESTABLISHED after an ignored RST."},
    {&WorkerStats::restoreFailures, "ftpalg_rst_restore_failures_total", MetricType::Counter,
     "Pinhole mode: such restores that failed."},
    {&WorkerStats::nonControlExpected, "ftpalg_queue_expected_connection_packets_total",
     MetricType::Counter,
     "Of the non-control packets: packets of expected (data) connections that reached the queue."},
    {&WorkerStats::labelWrites, "ftpalg_conntrack_label_writes_total", MetricType::Counter,
     "conntrack_state: records written into control connections' conntrack labels."},
    {&WorkerStats::labelWriteFailures, "ftpalg_conntrack_label_write_failures_total",
     MetricType::Counter, "conntrack_state: label records that could not be written."},
    {&WorkerStats::labelOffsetsRead, "ftpalg_conntrack_label_offsets_read_total",
     MetricType::Counter,
     "conntrack_state: sessions picked up mid-stream with offsets from their labels."},
    {&WorkerStats::withdrawDeferred, "ftpalg_admit_withdrawals_deferred_total",
     MetricType::Counter,
     "Pinhole mode: withdrawals of ended sessions done off the packet path (their own thread)."},
    {&WorkerStats::withdrawSyncFallbacks, "ftpalg_admit_withdraw_sync_fallbacks_total",
     MetricType::Counter,
     "Pinhole mode: such withdrawals done on the packet path because too many were pending."},
    {&WorkerStats::withdrawOrdered, "ftpalg_admit_withdraw_ordered_total", MetricType::Counter,
     "Pinhole mode: admits that first finished a pending withdrawal sharing one of their keys."},
    {&WorkerStats::withdrawPending, "ftpalg_admit_withdrawals_pending", MetricType::Gauge,
     "Pinhole mode: withdrawals handed off the packet path and not done yet."},
};
// clang-format on
// Every WorkerStats counter has a row except three the exposition carries otherwise: refused
// (ftpalg_events_total{verdict="refuse"}), sessions (ftpalg_sessions, from the engine's
// snapshot) and limitsHit (the ftpalg_engine_*_total counters it sums).
inline constexpr size_t kStatsNotRows = 3;
static_assert((std::size(kStatsRows) + kStatsNotRows) * sizeof(std::atomic<uint64_t>) ==
                  sizeof(WorkerStats),
              "one row per WorkerStats counter (or say above why not)");

std::string_view typeName(MetricType t) {
  switch (t) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

std::string doubleText(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  return fmt::format("{}", v);
}

double seconds(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

void engineCounters(ExpositionWriter& w, std::span<const QueueMetricsView> queues) {
  for (size_t i = 0; i < static_cast<size_t>(core::Counter::Count); ++i) {
    const auto c = static_cast<core::Counter>(i);
    const std::string name = fmt::format("ftpalg_engine_{}_total", core::counterName(c));
    w.family(name,
             fmt::format("Engine counter {} (docs/design.md names what each counts).",
                         core::counterName(c)),
             MetricType::Counter);
    for (const QueueMetricsView& q : queues) {
      const std::string queue = std::to_string(q.queue);
      w.sample(name, {{"queue", queue}}, q.engine.counter(c));
    }
  }
}

void eventCounts(ExpositionWriter& w, std::span<const QueueMetricsView> queues) {
  constexpr std::string_view name = "ftpalg_events_total";
  w.family(name,
           "Events (announcements and other notable lines) by kind, verdict and reason; a series "
           "appears with its first event.",
           MetricType::Counter);
  for (const QueueMetricsView& q : queues) {
    if (q.metrics == nullptr) continue;
    const std::string queue = std::to_string(q.queue);
    for (size_t k = 0; k < EventCounts::kKinds; ++k) {
      for (size_t v = 0; v < EventCounts::kVerdicts; ++v) {
        for (size_t r = 0; r < EventCounts::kReasons; ++r) {
          const auto kind = static_cast<core::EventKind>(k);
          const auto verdict = static_cast<core::Verdict>(v);
          const auto reason = static_cast<core::Reason>(r);
          const uint64_t n = q.metrics->events.get(kind, verdict, reason);
          if (n == 0) continue;
          w.sample(name,
                   {{"queue", queue},
                    {"kind", core::eventKindName(kind)},
                    {"verdict", core::verdictName(verdict)},
                    {"reason", core::reasonName(reason)}},
                   n);
        }
      }
    }
  }
}

void latency(ExpositionWriter& w, std::span<const QueueMetricsView> queues) {
  constexpr std::string_view name = "ftpalg_verdict_latency_seconds";
  w.family(name,
           "Time from a packet's receipt to the sending of its verdict (held packets included).",
           MetricType::Histogram);
  std::array<double, kLatencyBoundsNs.size()> bounds{};
  for (size_t i = 0; i < bounds.size(); ++i) bounds[i] = seconds(kLatencyBoundsNs[i]);
  for (const QueueMetricsView& q : queues) {
    if (q.metrics == nullptr) continue;
    std::array<uint64_t, kLatencyBoundsNs.size() + 1> buckets{};
    for (size_t i = 0; i < buckets.size(); ++i) {
      buckets[i] = q.metrics->latency.buckets[i].load(std::memory_order_relaxed);
    }
    w.histogram(name, std::to_string(q.queue), buckets, bounds,
                seconds(q.metrics->latency.sumNs.load(std::memory_order_relaxed)));
  }
}

void gauges(ExpositionWriter& w, std::span<const QueueMetricsView> queues) {
  w.family("ftpalg_sessions", "Control connections the engine follows now.", MetricType::Gauge);
  for (const QueueMetricsView& q : queues) {
    w.sample("ftpalg_sessions", {{"queue", std::to_string(q.queue)}}, q.engine.sessions);
  }
  w.family("ftpalg_announcements_outstanding",
           "Admitted announcements whose pinhole or expectation may still be live (not used, "
           "withdrawn or expired yet).",
           MetricType::Gauge);
  for (const QueueMetricsView& q : queues) {
    w.sample("ftpalg_announcements_outstanding", {{"queue", std::to_string(q.queue)}},
             q.engine.announcements);
  }
}

void kernelCounters(ExpositionWriter& w, std::span<const QueueMetricsView> queues, bool readable) {
  w.family("ftpalg_kernel_queue_stats_readable",
           "1 when the kernel's queue statistics (/proc/net/netfilter/nfnetlink_queue) could be "
           "read (root at start).",
           MetricType::Gauge);
  w.sample("ftpalg_kernel_queue_stats_readable", {}, uint64_t{readable ? 1u : 0u});
  struct Row {
    std::string_view name;
    MetricType type;
    std::string_view help;
    uint64_t KernelQueueTotals::*field;
  };
  constexpr Row rows[] = {
      {"ftpalg_kernel_queue_dropped_total", MetricType::Counter,
       "Packets the kernel dropped because the queue was full (queue_dropped, fail-closed).",
       &KernelQueueTotals::queueDropped},
      {"ftpalg_kernel_queue_user_dropped_total", MetricType::Counter,
       "Packets the kernel dropped because the queue socket could not take them "
       "(queue_user_dropped, fail-closed).",
       &KernelQueueTotals::userDropped},
      {"ftpalg_kernel_queue_length", MetricType::Gauge,
       "Packets waiting in the kernel queue for a verdict.", &KernelQueueTotals::queueLength},
  };
  for (const Row& r : rows) {
    w.family(r.name, r.help, r.type);
    for (const QueueMetricsView& q : queues) {
      if (q.kernel.present)
        w.sample(r.name, {{"queue", std::to_string(q.queue)}}, q.kernel.*r.field);
    }
  }
}

}  // namespace

std::string escapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escapeHelp(std::string_view h) {
  std::string out;
  out.reserve(h.size());
  for (char c : h) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void ExpositionWriter::family(std::string_view name, std::string_view help, MetricType type) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escapeHelp(help), name, typeName(type));
}

void ExpositionWriter::labels(std::initializer_list<Label> labels) {
  if (labels.size() == 0) return;
  out_ += '{';
  bool first = true;
  for (const Label& l : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += fmt::format("{}=\"{}\"", l.name, escapeLabelValue(l.value));
  }
  out_ += '}';
}

void ExpositionWriter::sample(std::string_view name, std::initializer_list<Label> ls,
                              uint64_t value) {
  out_ += name;
  labels(ls);
  out_ += fmt::format(" {}\n", value);
}

void ExpositionWriter::sample(std::string_view name, std::initializer_list<Label> ls,
                              double value) {
  out_ += name;
  labels(ls);
  out_ += ' ';
  out_ += doubleText(value);
  out_ += '\n';
}

void ExpositionWriter::histogram(std::string_view name, std::string_view queue,
                                 std::span<const uint64_t> buckets,
                                 std::span<const double> boundsSeconds, double sumSeconds) {
  const std::string bucket = fmt::format("{}_bucket", name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    cumulative += buckets[i];
    const std::string le = i < boundsSeconds.size() ? doubleText(boundsSeconds[i]) : "+Inf";
    sample(bucket, {{"queue", queue}, {"le", le}}, cumulative);
  }
  sample(fmt::format("{}_sum", name), {{"queue", queue}}, sumSeconds);
  sample(fmt::format("{}_count", name), {{"queue", queue}}, cumulative);
}

std::string renderMetrics(std::span<const QueueMetricsView> queues, bool kernelReadable) {
  ExpositionWriter w;
  for (const StatsRow& r : kStatsRows) {
    w.family(r.name, r.help, r.type);
    for (const QueueMetricsView& q : queues) {
      if (q.stats == nullptr) continue;
      w.sample(r.name, {{"queue", std::to_string(q.queue)}},
               (q.stats->*r.field).load(std::memory_order_relaxed));
    }
  }
  gauges(w, queues);
  eventCounts(w, queues);
  latency(w, queues);
  kernelCounters(w, queues, kernelReadable);
  engineCounters(w, queues);
  return w.take();
}

}  // namespace ftpalg::daemon
