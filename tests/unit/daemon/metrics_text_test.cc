// The Prometheus text exposition: escaping, the writer's lines, cumulative histogram buckets,
// and ftpalgd's rendering (every worker and engine counter present, names that follow the
// conventions, events by kind/verdict/reason, the latency histogram's count equal to the
// verdicts timed).
#include "daemon/metrics_text.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/stats_snapshot.h"
#include "daemon/worker_metrics.h"

namespace ftpalg::test {
namespace {

using daemon::ExpositionWriter;
using daemon::MetricType;

TEST(MetricsText, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(daemon::escapeLabelValue("plain"), "plain");
  EXPECT_EQ(daemon::escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(daemon::escapeLabelValue(""), "");
}

TEST(MetricsText, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(daemon::escapeHelp("say \"x\"\\\n"), "say \"x\"\\\\\\n");
}

TEST(MetricsText, WriterLines) {
  ExpositionWriter w;
  w.family("x_total", "Things\ncounted.", MetricType::Counter);
  w.sample("x_total", {{"queue", "0"}, {"why", "a\"b"}}, uint64_t{7});
  w.sample("x_total", {}, uint64_t{18446744073709551615u});
  w.family("y_seconds", "Time.", MetricType::Gauge);
  w.sample("y_seconds", {}, 0.25);
  EXPECT_EQ(w.text(),
            "# HELP x_total Things\\ncounted.\n"
            "# TYPE x_total counter\n"
            "x_total{queue=\"0\",why=\"a\\\"b\"} 7\n"
            "x_total 18446744073709551615\n"
            "# HELP y_seconds Time.\n"
            "# TYPE y_seconds gauge\n"
            "y_seconds 0.25\n");
}

TEST(MetricsText, HistogramBucketsAreCumulativeAndCountIsTheInfBucket) {
  ExpositionWriter w;
  const std::vector<uint64_t> buckets = {1, 0, 2, 3};  // the last is +Inf
  const std::vector<double> bounds = {0.001, 0.01, 0.1};
  w.histogram("h_seconds", "4", buckets, bounds, 1.5);
  EXPECT_EQ(w.text(),
            "h_seconds_bucket{queue=\"4\",le=\"0.001\"} 1\n"
            "h_seconds_bucket{queue=\"4\",le=\"0.01\"} 1\n"
            "h_seconds_bucket{queue=\"4\",le=\"0.1\"} 3\n"
            "h_seconds_bucket{queue=\"4\",le=\"+Inf\"} 6\n"
            "h_seconds_sum{queue=\"4\"} 1.5\n"
            "h_seconds_count{queue=\"4\"} 6\n");
}

TEST(MetricsText, LatencyBucketBoundsAreInclusive) {
  using daemon::LatencyHistogram;
  EXPECT_EQ(LatencyHistogram::bucketOf(0), 0u);
  EXPECT_EQ(LatencyHistogram::bucketOf(10'000), 0u);
  EXPECT_EQ(LatencyHistogram::bucketOf(10'001), 1u);
  EXPECT_EQ(LatencyHistogram::bucketOf(10'000'000'000), daemon::kLatencyBoundsNs.size() - 1);
  EXPECT_EQ(LatencyHistogram::bucketOf(10'000'000'001), daemon::kLatencyBoundsNs.size());
}

TEST(MetricsText, VerdictTimerObservesEachVerdictWhenFlushed) {
  daemon::LatencyHistogram h;
  daemon::VerdictTimer t(h);
  t.issued(1'000);
  t.issued(2'000);
  EXPECT_EQ(t.pending(), 2u);
  t.flushed(3'000);  // 2 us and 1 us
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(h.buckets[0].load(), 2u);
  EXPECT_EQ(h.sumNs.load(), 3'000u);
  t.issued(0);
  t.flushed(30'000'000);  // 30 ms
  EXPECT_EQ(h.buckets[daemon::LatencyHistogram::bucketOf(30'000'000)].load(), 1u);
}

// One parsed sample line: name, labels, value text.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value;
};

// A strict reading of the format's lines (what the e2e test checks with a real parser).
struct Parsed {
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helps;
  std::vector<Sample> samples;
  std::vector<std::string> errors;
};

Parsed parse(const std::string& text) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kSample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$)");
  static const std::regex kLabel(R"(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)\",?)");
  Parsed p;
  std::istringstream in(text);
  std::string current;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      if (!p.helps.insert(name).second) p.errors.push_back("HELP twice: " + name);
    } else if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream f(line.substr(7));
      std::string name, type;
      f >> name >> type;
      if (p.types.count(name) != 0) p.errors.push_back("family twice: " + name);
      p.types[name] = type;
      current = name;
      if (!std::regex_match(name, kName)) p.errors.push_back("bad name " + name);
    } else if (std::regex_match(line, m, kSample)) {
      Sample s{m[1], {}, m[4]};
      const std::string labels = m[3];
      for (auto it = std::sregex_iterator(labels.begin(), labels.end(), kLabel);
           it != std::sregex_iterator(); ++it) {
        s.labels[(*it)[1]] = (*it)[2];
      }
      const bool ofFamily = s.name == current || s.name == current + "_bucket" ||
                            s.name == current + "_sum" || s.name == current + "_count";
      if (!ofFamily) p.errors.push_back("sample outside its family: " + line);
      p.samples.push_back(std::move(s));
    } else {
      p.errors.push_back("bad line: " + line);
    }
  }
  return p;
}

uint64_t valueOf(const Parsed& p, const std::string& name,
                 const std::map<std::string, std::string>& labels) {
  for (const Sample& s : p.samples) {
    if (s.name == name && s.labels == labels) return std::stoull(s.value);
  }
  ADD_FAILURE() << "no sample " << name;
  return UINT64_MAX;
}

class RenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Distinct values: a counter wired to the wrong field shows.
    stats_.packets.store(101);
    stats_.dropped.store(102);
    stats_.admitted.store(103);
    stats_.withdrawn.store(104);
    stats_.pinholeFailures.store(105);
    stats_.held.store(3);
    daemon::EngineStats e;
    for (size_t i = 0; i < e.counters.size(); ++i) e.counters[i] = 1000 + i;
    e.sessions = 2;
    e.announcements = 4;
    snapshot_.publish(e);
  }
  std::string render(bool kernel = true) {
    daemon::QueueMetricsView v;
    v.queue = 7;
    v.stats = &stats_;
    v.metrics = &metrics_;
    v.engine = snapshot_.read();
    v.kernel = {kernel, 11, 12, 13};
    return daemon::renderMetrics(std::span<const daemon::QueueMetricsView>(&v, 1), kernel);
  }
  daemon::WorkerStats stats_;
  daemon::WorkerMetrics metrics_;
  daemon::StatsSnapshot snapshot_;
};

TEST_F(RenderTest, WellFormedAndConventionalNames) {
  const Parsed p = parse(render());
  EXPECT_TRUE(p.errors.empty()) << p.errors.front();
  for (const auto& [name, type] : p.types) {
    EXPECT_EQ(name.rfind("ftpalg_", 0), 0u) << name;
    EXPECT_TRUE(p.helps.count(name)) << "no HELP for " << name;
    if (type == "counter") {
      EXPECT_TRUE(name.size() > 6 && name.substr(name.size() - 6) == "_total") << name;
    } else {
      EXPECT_TRUE(name.size() < 6 || name.substr(name.size() - 6) != "_total") << name;
    }
  }
  for (const Sample& s : p.samples) {
    if (s.name == "ftpalg_kernel_queue_stats_readable") continue;
    EXPECT_EQ(s.labels.count("queue"), 1u) << s.name;
  }
}

TEST_F(RenderTest, EveryEngineCounterIsPresentWithItsValue) {
  const Parsed p = parse(render());
  for (size_t i = 0; i < static_cast<size_t>(core::Counter::Count); ++i) {
    const std::string name =
        "ftpalg_engine_" + std::string(core::counterName(static_cast<core::Counter>(i))) + "_total";
    EXPECT_EQ(p.types.at(name), "counter");
    EXPECT_EQ(valueOf(p, name, {{"queue", "7"}}), 1000 + i) << name;
  }
}

TEST_F(RenderTest, WorkerCountersGaugesAndKernelCounters) {
  const Parsed p = parse(render());
  EXPECT_EQ(valueOf(p, "ftpalg_queue_packets_total", {{"queue", "7"}}), 101u);
  EXPECT_EQ(valueOf(p, "ftpalg_packets_dropped_total", {{"queue", "7"}}), 102u);
  EXPECT_EQ(valueOf(p, "ftpalg_admit_installs_total", {{"queue", "7"}}), 103u);
  EXPECT_EQ(valueOf(p, "ftpalg_admit_withdrawals_total", {{"queue", "7"}}), 104u);
  EXPECT_EQ(valueOf(p, "ftpalg_admit_failures_total", {{"queue", "7"}}), 105u);
  EXPECT_EQ(valueOf(p, "ftpalg_held_packets", {{"queue", "7"}}), 3u);
  EXPECT_EQ(p.types.at("ftpalg_held_packets"), "gauge");
  EXPECT_EQ(valueOf(p, "ftpalg_sessions", {{"queue", "7"}}), 2u);
  EXPECT_EQ(valueOf(p, "ftpalg_announcements_outstanding", {{"queue", "7"}}), 4u);
  EXPECT_EQ(valueOf(p, "ftpalg_kernel_queue_dropped_total", {{"queue", "7"}}), 11u);
  EXPECT_EQ(valueOf(p, "ftpalg_kernel_queue_user_dropped_total", {{"queue", "7"}}), 12u);
  EXPECT_EQ(valueOf(p, "ftpalg_kernel_queue_length", {{"queue", "7"}}), 13u);
  EXPECT_EQ(valueOf(p, "ftpalg_kernel_queue_stats_readable", {}), 1u);
  // Without the kernel's file: the families stay, the queue's samples go, readable says 0.
  const Parsed q = parse(render(false));
  EXPECT_EQ(q.types.count("ftpalg_kernel_queue_dropped_total"), 1u);
  EXPECT_EQ(valueOf(q, "ftpalg_kernel_queue_stats_readable", {}), 0u);
  for (const Sample& s : q.samples) EXPECT_NE(s.name, "ftpalg_kernel_queue_dropped_total");
}

TEST_F(RenderTest, EventsByKindVerdictAndReason) {
  core::Event e;
  e.kind = core::EventKind::Pasv227;
  e.verdict = core::Verdict::Admit;
  e.reason = core::Reason::Rewritten;
  metrics_.events.count(e);
  metrics_.events.count(e);
  e.kind = core::EventKind::Port;
  e.verdict = core::Verdict::Refuse;
  e.reason = core::Reason::BounceAddress;
  metrics_.events.count(e);
  const Parsed p = parse(render());
  EXPECT_EQ(
      valueOf(p, "ftpalg_events_total",
              {{"queue", "7"}, {"kind", "pasv227"}, {"verdict", "admit"}, {"reason", "rewritten"}}),
      2u);
  EXPECT_EQ(
      valueOf(
          p, "ftpalg_events_total",
          {{"queue", "7"}, {"kind", "port"}, {"verdict", "refuse"}, {"reason", "bounce_address"}}),
      1u);
  size_t series = 0;
  for (const Sample& s : p.samples) series += s.name == "ftpalg_events_total";
  EXPECT_EQ(series, 2u);  // only combinations that happened
}

TEST_F(RenderTest, LatencyHistogramCountsEveryTimedVerdict) {
  daemon::VerdictTimer t(metrics_.latency);
  for (uint64_t i = 0; i < 50; ++i) t.issued(0);
  t.flushed(40'000);  // 40 us each
  for (uint64_t i = 0; i < 5; ++i) t.issued(0);
  t.flushed(20'000'000'000);  // 20 s: +Inf
  const Parsed p = parse(render());
  EXPECT_EQ(p.types.at("ftpalg_verdict_latency_seconds"), "histogram");
  EXPECT_EQ(valueOf(p, "ftpalg_verdict_latency_seconds_count", {{"queue", "7"}}), 55u);
  EXPECT_EQ(
      valueOf(p, "ftpalg_verdict_latency_seconds_bucket", {{"queue", "7"}, {"le", "2.5e-05"}}), 0u);
  EXPECT_EQ(valueOf(p, "ftpalg_verdict_latency_seconds_bucket", {{"queue", "7"}, {"le", "5e-05"}}),
            50u);
  EXPECT_EQ(valueOf(p, "ftpalg_verdict_latency_seconds_bucket", {{"queue", "7"}, {"le", "10"}}),
            50u);
  EXPECT_EQ(valueOf(p, "ftpalg_verdict_latency_seconds_bucket", {{"queue", "7"}, {"le", "+Inf"}}),
            55u);
  // Buckets never decrease.
  uint64_t last = 0;
  for (const Sample& s : p.samples) {
    if (s.name != "ftpalg_verdict_latency_seconds_bucket") continue;
    EXPECT_GE(std::stoull(s.value), last);
    last = std::stoull(s.value);
  }
}

}  // namespace
}  // namespace ftpalg::test
