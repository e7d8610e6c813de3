// ftpalgd configuration: defaults, the TOML file (--config) and the command line, in that order
// of precedence (a flag given on the command line wins over the file).
//
// Errors are values: a parse failure returns Status with a one-line message, for the TOML file
// "file:line:col: message". main() prints it and exits 2.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ftpalg::daemon {

// Auto: cthelper when the kernel has nfnetlink_cthelper, else pinhole. Cthelper: ftpalgd is a
// userspace conntrack helper and admits data connections as conntrack expectations. Pinhole:
// ftpalgd's own nftables table of single-use pinholes.
enum class KernelMode : uint8_t { Auto, Pinhole, Cthelper };
enum class LogLevel : uint8_t { Error, Warning, Info, Debug };

std::string_view kernelModeName(KernelMode m);
std::string_view logLevelName(LogLevel l);

// Everything ftpalgd can be told.
struct DaemonConfig {
  std::vector<uint16_t> queues{0};   // NFQUEUE numbers, one thread each
  KernelMode kernelMode = KernelMode::Auto;
  bool installRules = false;         // add (and at exit remove) the NFQUEUE rules itself
  bool failOpen = false;             // NFQA_CFG_F_FAIL_OPEN, and --queue-bypass in the rules
  std::string eventsPath;            // JSON lines; "-" = stdout; empty = none
  LogLevel logLevel = LogLevel::Info;
  uint32_t mark = 0x00f7a1;          // conntrack mark of admitted data connections
  uint32_t pinholeTimeoutS = 30;     // pinhole / expectation lifetime
  bool allowBounce = false;
  bool allowLowPorts = false;
  bool allowLongForms = false;
  std::vector<uint16_t> ports;       // more control ports besides 21
  std::string table = "ftpalg";      // nftables table of the pinholes
  uint32_t queueMaxLen = 4096;       // packets the kernel may queue per queue
};

// Ok, or a one-line message.
class [[nodiscard]] ConfigStatus {
 public:
  ConfigStatus() = default;
  static ConfigStatus error(std::string m) {
    ConfigStatus s;
    s.failed_ = true;
    s.message_ = std::move(m);
    return s;
  }
  [[nodiscard]] bool ok() const { return !failed_; }
  [[nodiscard]] const std::string& message() const { return message_; }

 private:
  bool failed_ = false;
  std::string message_;
};

// "0", "0-3", "0,2,5-6": queue numbers 0..65535, ascending ranges, no duplicates, at most 64.
ConfigStatus parseQueueList(std::string_view text, std::vector<uint16_t>& out);
// "2121" or "2121,2122": ports 1..65535, at most 7 (21 is always a control port).
ConfigStatus parsePortList(std::string_view text, std::vector<uint16_t>& out);
// "0xf7a1" or "63393": 1..2^32-1.
ConfigStatus parseMark(std::string_view text, uint32_t& out);
ConfigStatus parseLogLevel(std::string_view text, LogLevel& out);
ConfigStatus parseKernelMode(std::string_view text, KernelMode& out);

// Applies a TOML document (text named `name` in messages) on top of `cfg`. Unknown keys and
// wrong types are errors: "name:line:col: message".
ConfigStatus applyConfigText(std::string_view text, std::string_view name, DaemonConfig& cfg);
// Reads and applies a file.
ConfigStatus applyConfigFile(const std::string& path, DaemonConfig& cfg);

// Cross-field checks after everything is applied (e.g. --install-rules needs contiguous queues).
ConfigStatus validate(const DaemonConfig& cfg);

// Result of parsing the command line.
struct CommandLine {
  DaemonConfig config;
  bool printRules = false;  // print the rules an admin adds, then exit
  bool exit = false;        // --help/--version handled: exit with exitCode
  int exitCode = 0;
};

// Parses argv (defaults, then --config FILE, then the other flags). Help and version text go
// to stdout. Errors: a message for "ftpalgd: error: ..." and exit status 2.
ConfigStatus parseCommandLine(int argc, const char* const* argv, CommandLine& out);

}  // namespace ftpalg::daemon
