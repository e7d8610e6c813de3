// `ftpalg replay`: runs a capture through the engine, as the NFQUEUE daemon would run live
// traffic, and writes the resulting capture, the events and a summary.
//
// Packet IP headers are never rewritten: --snat/--dnat only tell the engine which addresses
// the NAT would use, so the output shows what the engine changes (FTP payload, TCP seq, ack,
// SACK) and nothing else.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "cli/frame_output.h"
#include "cli/replay_options.h"
#include "cli/status.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"

namespace ftpalg::cli {

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

// Replays options.inPath. Fails (before reading any frame) on bad options, an unreadable
// input or an unwritable output; a damaged capture is not a failure (see captureError).
Status runReplay(const ReplayOptions& options, ReplayReport& report);

// The multi-line summary printed on stderr, each line ending in '\n'.
std::string formatSummary(const ReplayReport& report);

}  // namespace ftpalg::cli
