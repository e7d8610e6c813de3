// The Prometheus text exposition format, version 0.0.4 (what a scraper asks for with
// "Accept: text/plain; version=0.0.4" and node_exporter's textfile collector reads): the writer
// of families and samples, and the rendering of ftpalgd's metrics (docs/daemon.md, "Metrics")
// from what each queue's worker publishes. Off the packet path: the metrics thread renders.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "daemon/stats_snapshot.h"
#include "daemon/worker_metrics.h"
#include "daemon/worker_stats.h"

namespace ftpalg::daemon {

// The media type of the format.
inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// A label value escaped for the format: backslash, double quote and line feed as \\, \" and \n.
std::string escapeLabelValue(std::string_view v);
// A HELP text escaped for the format: backslash and line feed as \\ and \n.
std::string escapeHelp(std::string_view h);

// The metric types ftpalgd writes.
enum class MetricType : uint8_t { Counter, Gauge, Histogram };

// One label of a sample.
struct Label {
  std::string_view name;
  std::string_view value;
};

// Appends families and samples to a text. Every sample of a family follows its HELP and TYPE
// lines before the next family starts (the format requires it); the caller keeps that order.
class ExpositionWriter {
 public:
  // "# HELP name help" and "# TYPE name type".
  void family(std::string_view name, std::string_view help, MetricType type);
  // "name{l1="v1",...} value".
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  // A whole histogram sample set: `buckets` per-bucket counts (the last +Inf), `boundsSeconds`
  // their upper bounds; writes the cumulative _bucket lines, _sum and _count.
  void histogram(std::string_view name, std::string_view queue, std::span<const uint64_t> buckets,
                 std::span<const double> boundsSeconds, double sumSeconds);
  [[nodiscard]] const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void labels(std::initializer_list<Label> labels);
  std::string out_;
};

// The kernel's counters of one queue (/proc/net/netfilter/nfnetlink_queue), widened to 64 bits.
struct KernelQueueTotals {
  bool present = false;  // the queue's line was read
  uint64_t queueDropped = 0;
  uint64_t userDropped = 0;
  uint64_t queueLength = 0;  // packets waiting for a verdict when read
};

// What the metrics of one queue are rendered from.
struct QueueMetricsView {
  uint16_t queue = 0;
  const WorkerStats* stats = nullptr;      // read directly (atomics)
  const WorkerMetrics* metrics = nullptr;  // read directly (atomics)
  EngineStats engine;                      // the worker's last published copy
  KernelQueueTotals kernel;
};

// The whole exposition of ftpalgd for `queues`; `kernelReadable`: whether the kernel's
// statistics file could be read.
std::string renderMetrics(std::span<const QueueMetricsView> queues, bool kernelReadable);

}  // namespace ftpalg::daemon
