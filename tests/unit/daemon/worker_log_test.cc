// WorkerLog: the queue prefix, one rate limiter per site, and the suppression count.
#include "daemon/worker_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace ftpalg::test {
namespace {

using daemon::LogLevel;
using daemon::LogSite;

size_t lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(WorkerLog, SitesAreLimitedApartAndSuppressionIsReported) {
  daemon::WorkerStats st;
  daemon::WorkerLog log(2, st);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 15; ++i) log.limited(LogSite::Anomaly, LogLevel::Warning, 100, "a {}", i);
  // Another site still has its whole burst.
  log.limited(LogSite::Error, LogLevel::Error, 100, "e");
  // The next interval: the first line says how many were dropped.
  log.limited(LogSite::Anomaly, LogLevel::Warning, 100 + 10'000'000'000, "later");
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(lines(out), 12u) << out;
  EXPECT_NE(out.find("ftpalgd: warning: queue 2: a 9\n"), std::string::npos);
  EXPECT_EQ(out.find("a 10"), std::string::npos);
  EXPECT_NE(out.find("ftpalgd: error: queue 2: e\n"), std::string::npos);
  EXPECT_NE(out.find("ftpalgd: warning: queue 2: later (5 similar messages suppressed)\n"),
            std::string::npos)
      << out;
}

TEST(WorkerLog, AdmitSiteHasALargerBurst) {
  daemon::WorkerStats st;
  daemon::WorkerLog log(0, st);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 60; ++i) log.limited(LogSite::Admit, LogLevel::Info, 100, "admit {}", i);
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(lines(out), 50u);
}

TEST(WorkerLog, DisabledLevelIsNotCountedAgainstTheBurst) {
  daemon::WorkerStats st;
  daemon::WorkerLog log(0, st);
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 20; ++i) log.limited(LogSite::Parse, LogLevel::Debug, 100, "debug {}", i);
  log.limited(LogSite::Parse, LogLevel::Warning, 100, "warn");
  const std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(lines(out), 1u) << out;
  EXPECT_NE(out.find("ftpalgd: warning: queue 0: warn\n"), std::string::npos) << out;
}

}  // namespace
}  // namespace ftpalg::test
