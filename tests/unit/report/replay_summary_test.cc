// The text of the `ftpalg replay` summary, from counts set by hand (tests/unit/cli/replay_test.cc
// checks it after a real replay).
#include "ftpalg/report/replay_summary.h"

#include <gtest/gtest.h>

#include <string>

namespace ftpalg::test {
namespace {

using report::formatCaptureWarning;
using report::formatSummary;
using report::ReplayReport;

ReplayReport quietCapture() {
  ReplayReport r;
  r.input = "in.pcap";
  r.linkName = "ethernet";
  r.framesRead = 4;
  r.control = 3;
  r.nonIp = 1;
  r.output.accepted = 3;
  return r;
}

TEST(ReplaySummary, OnlyWhatHappenedIsListed) {
  EXPECT_EQ(formatSummary(quietCapture()),
            "ftpalg replay: in.pcap (ethernet): 4 frames read, 0 dropped, 0 held at end\n"
            "  traffic: 3 control segments, 0 other tcp, 1 non-ip\n"
            "  control flows: 0\n"
            "  verdicts: accept 3, rewrite 0, hold 0, drop 0 (0 held until the end)\n"
            "  events: 0\n");
}

TEST(ReplaySummary, EveryLine) {
  ReplayReport r = quietCapture();
  r.wroteOutput = true;
  r.output.written = 3;
  r.output.dropped = 1;
  r.output.droppedAtEnd = 1;
  r.output.heldAtEnd = 2;
  r.output.held = 3;
  r.output.rewritten = 1;
  r.output.rewriteFailed = 1;
  r.output.unknownHandle = 2;
  r.output.missingVerdict = 3;
  r.events = 3;
  r.eventsBy[static_cast<size_t>(core::EventKind::Port)]
            [static_cast<size_t>(core::Verdict::Admit)] = 2;
  r.eventsBy[static_cast<size_t>(core::EventKind::Pasv227)]
            [static_cast<size_t>(core::Verdict::Refuse)] = 1;
  r.counters[static_cast<size_t>(core::Counter::Sessions)] = 1;
  r.counters[static_cast<size_t>(core::Counter::Rewrites)] = 1;
  r.packetErrors[static_cast<size_t>(core::PacketError::NotTcp)] = 2;
  r.packetErrors[static_cast<size_t>(core::PacketError::Fragment)] = 1;
  r.truncatedFrames = 1;
  r.captureError = "truncated dump file";
  EXPECT_EQ(
      formatSummary(r),
      "ftpalg replay: in.pcap (ethernet): 4 frames read, 3 written, 1 dropped, 2 held at end\n"
      "  traffic: 3 control segments, 0 other tcp, 1 non-ip\n"
      "  control flows: 1\n"
      "  verdicts: accept 3, rewrite 1, hold 3, drop 1 (1 held until the end), rewrite "
      "failed 1, unknown handle 2, no verdict 3\n"
      "  events: 3 (port admit 2, pasv227 refuse 1)\n"
      "  engine: sessions 1, rewrites 1\n"
      "  packet errors: fragment 1, not_tcp 2\n"
      "  capture damage: 1 truncated frames; read stopped after frame 4: truncated dump "
      "file\n");
}

TEST(ReplaySummary, CaptureWarningOnlyForDamage) {
  ReplayReport r = quietCapture();
  EXPECT_EQ(formatCaptureWarning(r), "");
  r.truncatedFrames = 1;
  EXPECT_EQ(formatCaptureWarning(r), "");
  r.captureError = "truncated dump file";
  EXPECT_EQ(formatCaptureWarning(r),
            "ftpalg: warning: in.pcap: read stopped after frame 4: truncated dump file\n");
}

}  // namespace
}  // namespace ftpalg::test
