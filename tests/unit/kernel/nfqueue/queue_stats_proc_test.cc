// /proc/net/netfilter/nfnetlink_queue parsing. The fixture lines were read on this project's
// CI kernel (6.18) in a network namespace: queue 7 fail-closed with queue_maxlen 16 while its
// daemon was stopped (16 waiting, 44 dropped), queue 9 fail-open and idle.
#include "ftpalg/kernel/queue_stats_proc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ftpalg::test {
namespace {

using kernel::QueueProcStats;

constexpr const char* kFixture =
    "    7 3448826582    16 2 65531    44     0       16  1\n"
    "    9 3528265697     0 2 65531     0     0        0  1\n";

TEST(QueueStatsProc, RealLinesOfThisKernel) {
  size_t bad = 99;
  const std::vector<QueueProcStats> v = kernel::parseQueueStats(kFixture, &bad);
  EXPECT_EQ(bad, 0u);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].queueNum, 7);
  EXPECT_EQ(v[0].portId, 3448826582u);
  EXPECT_EQ(v[0].queueTotal, 16u);
  EXPECT_EQ(v[0].copyMode, 2u);
  EXPECT_EQ(v[0].copyRange, 65531u);
  EXPECT_EQ(v[0].queueDropped, 44u);
  EXPECT_EQ(v[0].userDropped, 0u);
  EXPECT_EQ(v[0].idSequence, 16u);
  EXPECT_EQ(v[1].queueNum, 9);
  EXPECT_EQ(v[1].queueTotal, 0u);
  EXPECT_EQ(v[1].queueDropped, 0u);
}

TEST(QueueStatsProc, MalformedLinesAreSkippedAndCounted) {
  size_t bad = 0;
  const std::vector<QueueProcStats> v = kernel::parseQueueStats(
      "    7 1 0 2 65531 0 0 0\n"                       // eight fields
      "    7 1 0 2 65531 0 0 0 1 5\n"                   // ten
      "70000 1 0 2 65531 0 0 0 1\n"                     // queue number beyond 16 bits
      "    7 1 0 2 65531 -1 0 0 1\n"                    // a sign
      "    7 1 0 2 65531 4294967296 0 0 1\n"            // beyond 32 bits
      "\n"                                              // empty: ignored
      "    3 12    0 2 65531     1     2        3  1",  // no newline at the end: fine
      &bad);
  EXPECT_EQ(bad, 5u);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].queueNum, 3);
  EXPECT_EQ(v[0].userDropped, 2u);
}

TEST(QueueStatsProc, CounterDeltaWraps) {
  EXPECT_EQ(kernel::counterDelta(10, 15), 5u);
  EXPECT_EQ(kernel::counterDelta(0xfffffffeu, 3), 5u);
}

TEST(QueueStatsProc, TheFileIsReadAgainFromTheStartEachTime) {
  char path[] = "/tmp/ftpalg-qstats-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, kFixture, std::char_traits<char>::length(kFixture)),
            static_cast<ssize_t>(std::char_traits<char>::length(kFixture)));
  close(fd);
  kernel::QueueStatsFile f;
  ASSERT_TRUE(f.open(path).ok());
  std::vector<QueueProcStats> v;
  ASSERT_TRUE(f.read(v).ok());
  EXPECT_EQ(v.size(), 2u);
  ASSERT_TRUE(f.read(v).ok());
  EXPECT_EQ(v.size(), 2u);
  unlink(path);
  kernel::QueueStatsFile missing;
  EXPECT_FALSE(missing.open("/nonexistent/nfnetlink_queue").ok());
  EXPECT_FALSE(missing.read(v).ok());
}

}  // namespace
}  // namespace ftpalg::test
