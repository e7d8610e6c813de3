// `ftpalg replay`: runs a capture through the engine, as the NFQUEUE daemon would run live
// traffic, and writes the resulting capture, the events and a summary.
//
// Packet IP headers are never rewritten: --snat/--dnat only tell the engine which addresses
// the NAT would use, so the output shows what the engine changes (FTP payload, TCP seq, ack,
// SACK) and nothing else.
#pragma once

#include "cli/replay_options.h"
#include "ftpalg/report/replay_summary.h"
#include "ftpalg/status.h"

namespace ftpalg::cli {

// What runReplay() counted; report::formatSummary() prints it.
using report::ReplayReport;

// Replays options.inPath. Fails (before reading any frame) on bad options, an unreadable
// input or an unwritable output; a damaged capture is not a failure (see captureError).
Status runReplay(const ReplayOptions& options, ReplayReport& report);

}  // namespace ftpalg::cli
