#include "ftpalg/report/replay_summary.h"

#include <fmt/format.h>

#include <iterator>

namespace ftpalg::report {

std::string formatSummary(const ReplayReport& r) {
  fmt::memory_buffer out;
  auto line = std::back_inserter(out);
  fmt::format_to(line, "ftpalg replay: {} ({}): {} frames read", r.input, r.linkName, r.framesRead);
  if (r.wroteOutput) fmt::format_to(line, ", {} written", r.output.written);
  fmt::format_to(line, ", {} dropped, {} held at end\n", r.output.dropped, r.output.heldAtEnd);

  fmt::format_to(line, "  traffic: {} control segments, {} other tcp, {} non-ip\n", r.control,
                 r.nonControl, r.nonIp);
  fmt::format_to(line, "  control flows: {}\n",
                 r.counters[static_cast<size_t>(core::Counter::Sessions)]);
  const OutputStats& o = r.output;
  fmt::format_to(line,
                 "  verdicts: accept {}, rewrite {}, hold {}, drop {} ({} held until the end)",
                 o.accepted, o.rewritten, o.held, o.dropped, o.droppedAtEnd);
  if (o.rewriteFailed != 0) fmt::format_to(line, ", rewrite failed {}", o.rewriteFailed);
  if (o.unknownHandle != 0) fmt::format_to(line, ", unknown handle {}", o.unknownHandle);
  if (o.missingVerdict != 0) fmt::format_to(line, ", no verdict {}", o.missingVerdict);
  out.push_back('\n');

  fmt::format_to(line, "  events: {}", r.events);
  const char* sep = " (";
  for (size_t k = 0; k < r.eventsBy.size(); ++k) {
    for (size_t v = 0; v < r.eventsBy[k].size(); ++v) {
      if (r.eventsBy[k][v] == 0) continue;
      fmt::format_to(line, "{}{} {} {}", sep, core::eventKindName(static_cast<core::EventKind>(k)),
                     core::verdictName(static_cast<core::Verdict>(v)), r.eventsBy[k][v]);
      sep = ", ";
    }
  }
  fmt::format_to(line, "{}\n", *sep == ',' ? ")" : "");

  sep = "  engine: ";
  for (size_t c = 0; c < r.counters.size(); ++c) {
    if (r.counters[c] == 0) continue;
    fmt::format_to(line, "{}{} {}", sep, core::counterName(static_cast<core::Counter>(c)),
                   r.counters[c]);
    sep = ", ";
  }
  if (*sep == ',') out.push_back('\n');

  sep = "  packet errors: ";
  for (size_t e = 1; e < r.packetErrors.size(); ++e) {
    if (r.packetErrors[e] == 0) continue;
    fmt::format_to(line, "{}{} {}", sep, core::packetErrorName(static_cast<core::PacketError>(e)),
                   r.packetErrors[e]);
    sep = ", ";
  }
  if (*sep == ',') out.push_back('\n');

  if (r.truncatedFrames != 0 || !r.captureError.empty()) {
    fmt::format_to(line, "  capture damage: {} truncated frames", r.truncatedFrames);
    if (!r.captureError.empty()) {
      fmt::format_to(line, "; read stopped after frame {}: {}", r.framesRead, r.captureError);
    }
    out.push_back('\n');
  }
  return fmt::to_string(out);
}

std::string formatCaptureWarning(const ReplayReport& r) {
  if (r.captureError.empty()) return {};
  return fmt::format("ftpalg: warning: {}: read stopped after frame {}: {}\n", r.input,
                     r.framesRead, r.captureError);
}

}  // namespace ftpalg::report
