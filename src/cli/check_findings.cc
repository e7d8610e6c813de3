#include "cli/check_findings.h"

#include <fmt/format.h>

#include <algorithm>

#include "ftpalg/report/event_json.h"

namespace ftpalg::cli {

std::string_view severityName(Severity s) {
  switch (s) {
    case Severity::Error:
      return "error";
    case Severity::Warning:
      return "warning";
    case Severity::Info:
      break;
  }
  return "info";
}

size_t countSeverity(const Findings& findings, Severity s) {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(),
                                           [s](const Finding& f) { return f.severity == s; }));
}

int exitStatus(const Findings& findings) {
  return countSeverity(findings, Severity::Error) > 0 ? kExitFtpBroken : kExitHealthy;
}

std::string formatFindings(const Findings& findings) {
  std::string out;
  for (const Finding& f : findings) {
    out += fmt::format("{:<8}{}: {}\n", severityName(f.severity), f.id, f.what);
    if (!f.fix.empty()) out += fmt::format("{:<8}fix: {}\n", "", f.fix);
  }
  const size_t errors = countSeverity(findings, Severity::Error);
  const size_t warnings = countSeverity(findings, Severity::Warning);
  if (errors > 0) {
    out += fmt::format(
        "ftpalg check: {} error(s), {} warning(s): FTP through this gateway cannot "
        "work until the errors are fixed\n",
        errors, warnings);
  } else if (warnings > 0) {
    out += fmt::format("ftpalg check: no errors, {} warning(s)\n", warnings);
  } else {
    out += "ftpalg check: no problems found\n";
  }
  return out;
}

std::string formatFindingsJson(const Findings& findings) {
  fmt::memory_buffer buf;
  report::JsonWriter w(buf);
  w.beginObject();
  w.key("errors");
  w.number(static_cast<uint64_t>(countSeverity(findings, Severity::Error)));
  w.key("warnings");
  w.number(static_cast<uint64_t>(countSeverity(findings, Severity::Warning)));
  w.key("findings");
  w.beginArray();
  for (const Finding& f : findings) {
    w.beginObject();
    w.key("id");
    w.string(f.id);
    w.key("severity");
    w.string(severityName(f.severity));
    w.key("what");
    w.string(f.what);
    w.key("fix");
    w.string(f.fix);
    w.endObject();
  }
  w.endArray();
  w.endObject();
  return fmt::to_string(buf) + "\n";
}

}  // namespace ftpalg::cli
