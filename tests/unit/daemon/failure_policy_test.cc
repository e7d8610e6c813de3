// The failure policy table: one row per Failure, in enum order, each with its reason, and
// WorkerLog::fail() doing exactly what its row says (counter, verdict, log level and site).
#include "daemon/failure_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>

#include "daemon/log.h"
#include "daemon/worker_log.h"

namespace ftpalg::test {
namespace {

using daemon::Failure;
using daemon::FailureRule;
using daemon::FailVerdict;
using daemon::kFailurePolicy;
using daemon::LogSite;

TEST(FailurePolicy, EveryFailureHasExactlyOneRow) {
  for (size_t f = 0; f < static_cast<size_t>(Failure::Count); ++f) {
    size_t rows = 0;
    for (const FailureRule& r : kFailurePolicy) {
      if (static_cast<size_t>(r.failure) == f) ++rows;
    }
    EXPECT_EQ(rows, 1u) << "Failure " << f;
  }
  EXPECT_EQ(std::size(kFailurePolicy), static_cast<size_t>(Failure::Count));
}

TEST(FailurePolicy, RowsAreInEnumOrderAndExplained) {
  for (size_t i = 0; i < std::size(kFailurePolicy); ++i) {
    const FailureRule& r = kFailurePolicy[i];
    EXPECT_EQ(static_cast<size_t>(r.failure), i);
    EXPECT_EQ(&daemon::failureRule(r.failure), &r);
    EXPECT_FALSE(r.why.empty()) << i;
    EXPECT_EQ(r.counter == nullptr, r.counterName.empty()) << i;
    EXPECT_NE(r.site, LogSite::Count) << i;
  }
}

// The verdicts reviewers rely on; a change here is a change of policy.
TEST(FailurePolicy, FailClosedWhereAnAnnouncementCouldLeaveUnsafe) {
  EXPECT_EQ(daemon::failureRule(Failure::AdmitFailed).verdict, FailVerdict::Drop);
  EXPECT_EQ(daemon::failureRule(Failure::AdmitRetryFailed).verdict, FailVerdict::Drop);
  EXPECT_EQ(daemon::failureRule(Failure::PoolFull).verdict, FailVerdict::Drop);
  EXPECT_EQ(daemon::failureRule(Failure::RebuildFailed).verdict, FailVerdict::Drop);
  EXPECT_EQ(daemon::failureRule(Failure::ShutdownHeld).verdict, FailVerdict::Drop);
  EXPECT_EQ(daemon::failureRule(Failure::ParseError).verdict, FailVerdict::Accept);
  EXPECT_EQ(daemon::failureRule(Failure::NoConntrack).verdict, FailVerdict::Accept);
  EXPECT_EQ(daemon::failureRule(Failure::MissingVerdict).verdict, FailVerdict::Accept);
  EXPECT_EQ(daemon::failureRule(Failure::NatLookupFailed).verdict, FailVerdict::Unchanged);
}

// Every counter of WorkerStats that a row names, as plain values.
std::array<uint64_t, static_cast<size_t>(Failure::Count)> counts(const daemon::WorkerStats& st) {
  std::array<uint64_t, static_cast<size_t>(Failure::Count)> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    const FailureRule& r = kFailurePolicy[i];
    if (r.counter != nullptr) out[i] = (st.*r.counter).load();
  }
  return out;
}

TEST(FailurePolicy, FailCountsLogsAndReturnsWhatTheRowSays) {
  daemon::setLogLevel(daemon::LogLevel::Debug);
  for (const FailureRule& r : kFailurePolicy) {
    daemon::WorkerStats st;
    daemon::WorkerLog log(5, st);
    const auto before = counts(st);
    ::testing::internal::CaptureStderr();
    const FailVerdict v = log.fail(r.failure, 1'000, "trouble {}", 42);
    const std::string out = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(v, r.verdict);
    const auto after = counts(st);
    for (size_t i = 0; i < after.size(); ++i) {
      const FailureRule& other = kFailurePolicy[i];
      // Rows sharing a counter see it move together.
      const bool same = r.counter != nullptr && other.counter == r.counter;
      EXPECT_EQ(after[i] - before[i], same ? 1u : 0u)
          << "failure " << static_cast<int>(r.failure) << " counter of row " << i;
    }
    if (r.site == LogSite::None) {
      EXPECT_EQ(out, "");
    } else {
      // (Under journald each line starts with a priority prefix such as "<4>".)
      const std::string want =
          "ftpalgd: " + std::string(daemon::logLevelName(r.level)) + ": queue 5: trouble 42\n";
      EXPECT_TRUE(out.size() >= want.size() && out.ends_with(want)) << out;
      EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    }
  }
  daemon::setLogLevel(daemon::LogLevel::Info);
}

}  // namespace
}  // namespace ftpalg::test
