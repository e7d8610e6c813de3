// ftpalgd configuration: defaults, the TOML file (--config) and the command line, in that order
// of precedence (a flag given on the command line wins over the file).
//
// Errors are values: a parse failure returns Status with a one-line message, for the TOML file
// "file:line:col: message". main() prints it and exits 2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/policy_config.h"
#include "ftpalg/defaults.h"
#include "ftpalg/name_table.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// Auto: cthelper when the kernel has nfnetlink_cthelper, else pinhole. Cthelper: ftpalgd is a
// userspace conntrack helper and admits data connections as conntrack expectations. Pinhole:
// ftpalgd's own nftables table of single-use pinholes.
#define FTPALG_KERNEL_MODES(X) X(Auto, "auto") X(Pinhole, "pinhole") X(Cthelper, "cthelper")
enum class KernelMode : uint8_t { FTPALG_KERNEL_MODES(FTPALG_ENUM_VALUE) };
// Log severities, most severe first (a level shows itself and everything above it).
#define FTPALG_LOG_LEVELS(X) \
  X(Error, "error") X(Warning, "warning") X(Info, "info") X(Debug, "debug")
enum class LogLevel : uint8_t { FTPALG_LOG_LEVELS(FTPALG_ENUM_VALUE) };

std::string_view kernelModeName(KernelMode m);
std::string_view logLevelName(LogLevel l);

// Where the metrics endpoint listens unless `metrics_socket` says otherwise.
inline constexpr const char* kDefaultMetricsSocket = "/run/ftpalg/metrics.sock";
// Where events and log lines go: Journal writes events as structured journal entries
// (sd_journal_send), Stderr as text only; Auto is Journal when stderr is the journal's stream
// (systemd sets JOURNAL_STREAM), else Stderr.
#define FTPALG_LOG_TARGETS(X) X(Auto, "auto") X(Journal, "journal") X(Stderr, "stderr")
enum class LogTarget : uint8_t { FTPALG_LOG_TARGETS(FTPALG_ENUM_VALUE) };
std::string_view logTargetName(LogTarget t);
Status parseLogTarget(std::string_view text, LogTarget& out);

// One [[policy.override]] table: the networks, and the switches it replaces (unset: the global
// value). Networks are kept as written after validation ("198.18.5.0/24").
struct PolicyOverrideConfig {
  std::vector<std::string> networks;
  std::optional<bool> allowBounce;
  std::optional<bool> allowLowPorts;
  bool operator==(const PolicyOverrideConfig&) const = default;
};

// Everything ftpalgd can be told.
struct DaemonConfig {
  std::vector<uint16_t> queues{0};  // NFQUEUE numbers, one thread each
  KernelMode kernelMode = KernelMode::Auto;
  bool installRules = false;  // add (and at exit remove) the NFQUEUE rules itself
  bool failOpen = false;      // NFQA_CFG_F_FAIL_OPEN, and --queue-bypass in the rules
  std::string eventsPath;     // JSON lines; "-" = stdout; empty = none
  LogLevel logLevel = LogLevel::Info;
  uint32_t mark = defaults::kMark;  // conntrack mark of admitted data connections
  uint32_t pinholeTimeoutS = defaults::kPinholeTimeoutS;  // pinhole / expectation lifetime
  bool allowBounce = false;
  bool allowLowPorts = false;
  bool allowLongForms = false;
  std::vector<uint16_t> ports;                    // more control ports besides 21
  std::string table;                              // pinhole table; empty: defaults::tableName
  uint32_t queueMaxLen = defaults::kQueueMaxLen;  // packets the kernel may queue per queue

  // Resource limits of each queue's engine (docs/design.md, "Resource limits").
  uint32_t maxSessions = defaults::kMaxSessions;  // session table slots
  uint32_t maxBuffers = defaults::kMaxBuffers;    // pooled direction buffers
  uint32_t halfOpenTimeoutS = defaults::kHalfOpenTimeoutS;
  uint32_t holdTimeoutS = defaults::kHoldTimeoutS;
  uint32_t maxHeld = 0;  // held packets per queue; 0: a quarter of queueMaxLen

  // Sessions that outlive the process (docs/daemon.md, "Restarts and failures").
  std::string stateDir{defaults::kStateDir};      // snapshots in <stateDir>/queue-<N>; "": none
  uint32_t sessionMark = defaults::kSessionMark;  // ct mark of rewritten control conns; 0: none
  // Privileges after setup (docs/daemon.md, "Privileges").
  std::string user;     // run as this user; empty: `ftpalg` if it exists, else stay uid 0
  std::string group;    // empty: the user's primary group
  bool seccomp = true;  // the system call allow-list
  // More engine limits (ftpalgd.toml(5), "RESOURCE LIMITS").
  uint32_t maxLine = defaults::kMaxLine;
  uint32_t maxInFlight = defaults::kMaxInFlight;  // at least twice maxLine
  uint32_t maxExpectations = defaults::kMaxExpectations;
  uint32_t idleTimeoutS = defaults::kIdleTimeoutS;
  uint32_t closeTimeoutS = defaults::kCloseTimeoutS;
  uint32_t maxHeldPerDirection = defaults::kMaxHeldPerDirection;
  uint32_t gapDropLimit = defaults::kGapDropLimit;
  uint32_t maxDataKeys = defaults::kMaxDataKeys;  // outstanding announcements per queue
  // Metrics endpoint (docs/daemon.md, "Metrics"); "" leaves each part out.
  std::string metricsSocket{kDefaultMetricsSocket};  // Unix socket answering GET /metrics
  std::string metricsListen;                         // loopback "ADDR:PORT" answering the same
  std::string metricsTextfile;                       // node_exporter textfile, rewritten every 5 s
  // Queue rules (docs/daemon.md, "ACK bypass"): also queue the pure ACKs of unshifted sessions.
  bool queueEverything = false;
  // Announcement policy beyond the switches (ftpalgd.toml(5), "POLICY").
  core::PasvMismatch pasvAddressMismatch = core::PasvMismatch::Refuse;
  std::vector<PolicyOverrideConfig> overrides;  // [[policy.override]], at most 8
  LogTarget logTarget = LogTarget::Auto;        // events as journal entries or not
  // The admin control socket (docs/daemon.md, "Status"): "" serves none.
  std::string controlSocket{defaults::kControlSocket};
  std::string controlGroup;  // may ask besides root and the daemon's user; "": nobody else
  // Pinhole mode's state in conntrack labels (docs/daemon.md, "Conntrack state labels").
  bool conntrackState = false;      // conntrack_state = "labels"
  uint32_t conntrackStateBit = 48;  // first of the record's 80 label bits

  bool operator==(const DaemonConfig&) const = default;
  // Queue rules (docs/daemon.md, "Scaling over queues"): with more than one queue, spread
  // connections (a symmetric 5-tuple hash) rather than address pairs over them.
  bool spreadConnections = false;
};

// "0", "0-3", "0,2,5-6": queue numbers 0..65535, ascending ranges, no duplicates, at most 64.
Status parseQueueList(std::string_view text, std::vector<uint16_t>& out);
// "2121" or "2121,2122": ports 1..65535, at most 7 (21 is always a control port).
Status parsePortList(std::string_view text, std::vector<uint16_t>& out);
// "0xf7a1" or "63393": 1..2^32-1.
Status parseMark(std::string_view text, uint32_t& out);
Status parseLogLevel(std::string_view text, LogLevel& out);
Status parseKernelMode(std::string_view text, KernelMode& out);
// metrics_listen: "" or "ADDR:PORT" / "[ADDR6]:PORT" with a loopback address (127.0.0.0/8,
// ::1) and a port 1..65535. Only loopback: the endpoint has no authentication.
Status checkMetricsListen(std::string_view text);

// Applies a TOML document (text named `name` in messages) on top of `cfg`. Unknown keys and
// wrong types are errors: "name:line:col: message".
Status applyConfigText(std::string_view text, std::string_view name, DaemonConfig& cfg);
// Every key a configuration file may hold (for the documentation checks).
std::vector<std::string_view> configKeys();

// Reads and applies a file.
Status applyConfigFile(const std::string& path, DaemonConfig& cfg);

// Cross-field checks after everything is applied (e.g. --install-rules needs contiguous queues).
Status validate(const DaemonConfig& cfg);

// Result of parsing the command line.
struct CommandLine {
  DaemonConfig config;
  bool printRules = false;  // print the rules an admin adds, then exit
  bool exit = false;        // --help/--version handled: exit with exitCode
  int exitCode = 0;
  bool removeTable = false;    // delete the pinhole table this configuration names, then exit
  bool removeHelper = false;   // --remove-helper: remove expectation mode's kernel state, exit
  bool disableHelper = false;  // --disable-helper: disable a crashed instance's helper, exit
};

// Parses argv (defaults, then --config FILE, then the other flags). Help and version text go
// to stdout. Errors: a message for "ftpalgd: error: ..." and exit status 2.
Status parseCommandLine(int argc, const char* const* argv, CommandLine& out);

}  // namespace ftpalg::daemon
