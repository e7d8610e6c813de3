// `ftpalg check`: the findings model. A finding is one problem (or note) about the running
// gateway in plain words with the fix; its id is stable (docs/check.md lists every id), its
// severity decides the exit status: any Error means FTP through the gateway cannot work.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ftpalg::cli {

// Error: FTP cannot work (exit 1). Warning: works, but degraded or fragile. Info: a note.
enum class Severity : uint8_t { Error, Warning, Info };
std::string_view severityName(Severity s);  // "error", "warning", "info"

// One diagnosis result.
struct Finding {
  std::string id;  // stable, snake_case ("no_queue_rule")
  Severity severity = Severity::Info;
  std::string what;  // what is wrong, in plain words, naming the rule/queue/table concerned
  std::string fix;   // what to do about it
};

// The findings of one run, in the order the diagnoses ran.
using Findings = std::vector<Finding>;

inline constexpr int kExitHealthy = 0;      // no error (warnings and notes may be present)
inline constexpr int kExitFtpBroken = 1;    // at least one error finding
inline constexpr int kExitCheckFailed = 2;  // bad arguments, or the gateway could not be read

// kExitFtpBroken when any finding is an error, else kExitHealthy.
int exitStatus(const Findings& findings);
size_t countSeverity(const Findings& findings, Severity s);

// Text for people: one block per finding ("error  id: what" / "       fix: ..."), then a
// summary line.
std::string formatFindings(const Findings& findings);
// {"errors":N,"warnings":N,"findings":[{"id":..,"severity":..,"what":..,"fix":..}]}
std::string formatFindingsJson(const Findings& findings);

}  // namespace ftpalg::cli
