// The summary of `ftpalg replay`: what a replay counted, and the text printed on stderr.
// Formatting only: the replay (src/cli/replay.cc) and its frame output fill the counts.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"

namespace ftpalg::report {

// What the replay's frame output did with the engine's verdicts.
struct OutputStats {
  uint64_t written = 0;         // frames written to the output (0 without --out)
  uint64_t passedThrough = 0;   // frames not given to the engine, written unchanged
  uint64_t accepted = 0;        // Accept verdicts applied
  uint64_t rewritten = 0;       // Rewrite verdicts applied
  uint64_t dropped = 0;         // Drop verdicts applied (including droppedAtEnd)
  uint64_t held = 0;            // Hold verdicts applied
  uint64_t heldPeak = 0;        // most frames held at once
  uint64_t droppedAtEnd = 0;    // held frames the final expire dropped
  uint64_t heldAtEnd = 0;       // frames still held after the final expire (not written)
  uint64_t rewriteFailed = 0;   // Rewrite that could not be built: frame written unchanged
  uint64_t unknownHandle = 0;   // action for a frame that is neither current nor held
  uint64_t missingVerdict = 0;  // engine said nothing about the current frame: written as is
};

// Everything the summary reports.
struct ReplayReport {
  std::string input;
  std::string linkName;
  bool wroteOutput = false;
  uint64_t framesRead = 0;
  uint64_t truncatedFrames = 0;  // captured length below wire length
  std::string captureError;      // damage that ended the read early, empty when none
  uint64_t nonIp = 0;            // frames without an IPv4/IPv6 packet
  uint64_t nonControl = 0;       // TCP packets of other connections
  uint64_t control = 0;          // segments given to the engine
  std::array<uint64_t, static_cast<size_t>(core::PacketError::Count)> packetErrors{};
  OutputStats output;
  uint64_t events = 0;
  // events[kind][verdict]
  std::array<std::array<uint64_t, 3>, static_cast<size_t>(core::EventKind::Count)> eventsBy{};
  std::array<uint64_t, static_cast<size_t>(core::Counter::Count)> counters{};
};

// The multi-line summary printed on stderr, each line ending in '\n'.
std::string formatSummary(const ReplayReport& report);

// The one line printed instead of the summary (--quiet) when the capture was damaged, ending
// in '\n'; empty when it was not.
std::string formatCaptureWarning(const ReplayReport& report);

}  // namespace ftpalg::report
