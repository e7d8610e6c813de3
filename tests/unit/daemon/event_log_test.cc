// Events of a worker under a flood of junk announcement lines: one host's refused PORT lines
// cost a bounded number of event lines (its session's burst, then its refill rate), and what
// was left out is reported by one "suppressed" line per second.
#include "daemon/event_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "daemon/clock.h"
#include "daemon/pinhole_admitter.h"
#include "daemon/queue_worker.h"
#include "tests/support/fake_control_connection.h"
#include "tests/support/fake_kernel_backends.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using ftpalg::test::endpoint;

TEST(EventLogFloodTest, JunkPortLinesOfOneSessionCostABoundedNumberOfEventLines) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("ftpalg-event-flood-" + std::to_string(getpid()) + ".jsonl");
  std::filesystem::remove(path);
  FakeQueue queue;
  daemon::EventSink events;
  ASSERT_TRUE(events.open(path.string()).ok());
  daemon::WorkerSettings s;
  daemon::QueueWorker worker(s, events, queue, [&](daemon::WorkerLog& log) {
    return std::make_unique<daemon::PinholeAdmitter>(std::make_unique<FakePinholes>(),
                                                     std::make_unique<FakeConntrack>(),
                                                     s.engine.idleTimeoutNs, log);
  });
  ASSERT_TRUE(worker.open().ok());
  FakeControlConnection conn(queue, [&] { worker.serveOnce(); });
  conn.setAddresses(endpoint("198.18.0.2:40000"), endpoint("198.19.0.2:21"));
  conn.handshake();
  // 2000 bounce PORT lines (another host's address), 20 per segment, each answered by the
  // server so the pairing stays in step.
  constexpr int kLines = 2000;
  size_t junkBytes = 0;
  for (int i = 0; i < kLines / 20; ++i) {
    std::string seg;
    for (int j = 0; j < 20; ++j) seg += "PORT 192,0,2,99,200,1\r\n";
    junkBytes += seg.size();
    conn.send(Dir::C2S, seg);
    std::string replies;
    for (int j = 0; j < 20; ++j) replies += "200 ok\r\n";
    conn.send(Dir::S2C, replies);
  }
  worker.expire(daemon::monotonicNs());
  worker.serveOnce();
  events.close();

  std::ifstream in(path);
  std::string line;
  size_t lines = 0;
  size_t bytes = 0;
  size_t suppressedLines = 0;
  while (std::getline(in, line)) {
    ++lines;
    bytes += line.size() + 1;
    if (line.find("\"kind\":\"suppressed\"") != std::string::npos) ++suppressedLines;
  }
  std::filesystem::remove(path);
  std::printf("junk bytes %zu -> event lines %zu, event bytes %zu (%.3f bytes per junk byte)\n",
              junkBytes, lines, bytes, static_cast<double>(bytes) / static_cast<double>(junkBytes));
  EXPECT_LE(lines, 100u);  // the session's burst and a second of refill, plus the report
  EXPECT_EQ(suppressedLines, 1u);
  EXPECT_LT(bytes, junkBytes / 2);  // and falls with the flood's length
}

}  // namespace
}  // namespace ftpalg::test
