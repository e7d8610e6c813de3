// CLI11 at -O2 makes g++ 12 report a false -Wnull-dereference inside its inlined std::string
// code (as in src/cli/main.cc); this file does no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "daemon/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "daemon/ct_state_keys.h"
#include "daemon/policy_keys.h"
#include "ftpalg/core/number.h"
#include "ftpalg/core/types.h"
#include "ftpalg/defaults.h"

namespace ftpalg::daemon {
namespace {

using defaults::kMaxExtraPorts;
using defaults::kMaxPinholeTimeoutS;
using defaults::kMaxQueueMaxLen;
using defaults::kMaxQueues;
using defaults::kMinQueueMaxLen;

constexpr const char* kVersion = "ftpalgd 0.1.0";

// Whole string, decimal, no sign, range-checked (at most 10 digits, leading zeros allowed).
template <typename T>
bool parseDecimal(std::string_view s, T& out, T lo, T hi) {
  return core::parseNumber<T>(s, out, lo, hi, 10);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

#define FTPALG_ROW(value, name) {KernelMode::value, name},
constexpr NameRow<KernelMode> kKernelModes[] = {FTPALG_KERNEL_MODES(FTPALG_ROW)};
#undef FTPALG_ROW
#define FTPALG_ROW(value, name) {LogLevel::value, name},
constexpr NameRow<LogLevel> kLogLevels[] = {FTPALG_LOG_LEVELS(FTPALG_ROW)};
#undef FTPALG_ROW
static_assert(completeNameTable(kKernelModes, std::size(kKernelModes)));
static_assert(completeNameTable(kLogLevels, std::size(kLogLevels)));
#define FTPALG_ROW(value, name) {LogTarget::value, name},
constexpr NameRow<LogTarget> kLogTargets[] = {FTPALG_LOG_TARGETS(FTPALG_ROW)};
#undef FTPALG_ROW
static_assert(completeNameTable(kLogTargets, std::size(kLogTargets)));
std::string_view logTargetName(LogTarget t) { return nameOf(kLogTargets, t); }
Status parseLogTarget(std::string_view text, LogTarget& out) {
  if (valueOf(kLogTargets, text, out)) return {};
  return Status::error(fmt::format("bad log target '{}' ({})", text, namesList(kLogTargets)));
}

std::string_view kernelModeName(KernelMode m) { return nameOf(kKernelModes, m); }
std::string_view logLevelName(LogLevel l) { return nameOf(kLogLevels, l); }

Status parseQueueList(std::string_view text, std::vector<uint16_t>& out) {
  std::vector<uint16_t> queues;
  if (text.empty()) return Status::error("empty queue list");
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    const size_t dash = item.find('-');
    uint16_t first = 0;
    uint16_t last = 0;
    const std::string_view a = item.substr(0, dash);
    const std::string_view b = dash == std::string_view::npos ? a : item.substr(dash + 1);
    if (!parseDecimal<uint16_t>(a, first, 0, 65535) || !parseDecimal<uint16_t>(b, last, 0, 65535)) {
      return Status::error(fmt::format("bad queue number or range '{}'", item));
    }
    if (last < first) return Status::error(fmt::format("descending queue range '{}'", item));
    for (uint32_t q = first; q <= last; ++q) {
      for (uint16_t seen : queues) {
        if (seen == q) return Status::error(fmt::format("queue {} listed twice", q));
      }
      if (queues.size() == kMaxQueues) {
        return Status::error(fmt::format("more than {} queues", kMaxQueues));
      }
      queues.push_back(static_cast<uint16_t>(q));
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  out = std::move(queues);
  return {};
}

Status parsePortList(std::string_view text, std::vector<uint16_t>& out) {
  std::vector<uint16_t> ports;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    uint16_t port = 0;
    if (!parseDecimal<uint16_t>(item, port, 1, 65535)) {
      return Status::error(fmt::format("bad port '{}' (1..65535)", item));
    }
    if (port != 21) {
      for (uint16_t p : ports) {
        if (p == port) return Status::error(fmt::format("port {} listed twice", port));
      }
      if (ports.size() == kMaxExtraPorts) {
        return Status::error(fmt::format("more than {} extra control ports", kMaxExtraPorts));
      }
      ports.push_back(port);
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  out = std::move(ports);
  return {};
}

Status parseMark(std::string_view text, uint32_t& out) {
  if (!core::parseDecimalOrHex<uint32_t>(text, out, 1, UINT32_MAX)) {
    return Status::error(fmt::format("bad mark '{}' (1..0xffffffff)", text));
  }
  return {};
}

Status parseLogLevel(std::string_view text, LogLevel& out) {
  if (valueOf(kLogLevels, text, out)) return {};
  return Status::error(fmt::format("bad log level '{}' ({})", text, namesList(kLogLevels)));
}

Status parseKernelMode(std::string_view text, KernelMode& out) {
  if (valueOf(kKernelModes, text, out)) return {};
  return Status::error(fmt::format("bad kernel mode '{}' (auto, cthelper, pinhole)", text));
}

Status checkMetricsListen(std::string_view text) {
  if (text.empty()) return {};
  const size_t colon = text.rfind(':');
  std::string_view host = text.substr(0, colon);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  core::IpAddr addr;
  uint16_t port = 0;
  if (colon == std::string_view::npos || !core::parseIp(host, addr) ||
      (addr.family == core::Family::V6) != bracketed ||
      !core::parseNumber<uint16_t>(text.substr(colon + 1), port, 1, 65535, 5)) {
    return Status::error(
        fmt::format("bad metrics address '{}' (127.0.0.1:PORT or [::1]:PORT)", text));
  }
  static constexpr std::array<uint8_t, 16> kLoopback6{0, 0, 0, 0, 0, 0, 0, 0,
                                                      0, 0, 0, 0, 0, 0, 0, 1};
  const bool loopback =
      addr.family == core::Family::V4 ? addr.bytes[0] == 127 : addr.bytes == kLoopback6;
  if (!loopback) {
    return Status::error(fmt::format(
        "metrics address '{}' is not a loopback address (the endpoint has no authentication; "
        "use the textfile or a proxy for remote scrapers)",
        text));
  }
  return {};
}

namespace {

std::string where(std::string_view name, const toml::source_region& src) {
  return fmt::format("{}:{}:{}", name, src.begin.line, src.begin.column);
}

Status nodeError(std::string_view name, const toml::node& node, std::string_view what) {
  return Status::error(fmt::format("{}: {}", where(name, node.source()), what));
}

// One TOML key being applied: typed reads of its node, each error as "name:line:col: message".
class KeyReader {
 public:
  KeyReader(std::string_view name, std::string_view key, const toml::node& node)
      : name_(name), key_(key), node_(node) {}

  [[nodiscard]] std::string_view key() const { return key_; }
  [[nodiscard]] const toml::node& node() const { return node_; }
  [[nodiscard]] Status error(std::string_view what) const { return nodeError(name_, node_, what); }
  [[nodiscard]] Status errorAt(const toml::node& n, std::string_view what) const {
    return nodeError(name_, n, what);
  }

  Status wantBool(bool& dst) const {
    if (const auto* b = node_.as_boolean()) {
      dst = b->get();
      return {};
    }
    return error(fmt::format("'{}' must be true or false", key_));
  }
  Status wantString(std::string& dst) const {
    if (const auto* s = node_.as_string()) {
      dst = s->get();
      return {};
    }
    return error(fmt::format("'{}' must be a string", key_));
  }
  Status wantInt(uint32_t& dst, uint32_t lo, uint32_t hi) const {
    if (const auto* i = node_.as_integer()) {
      const int64_t v = i->get();
      if (v >= lo && v <= hi) {
        dst = static_cast<uint32_t>(v);
        return {};
      }
    }
    return error(fmt::format("'{}' must be an integer {}..{}", key_, lo, hi));
  }
  // A parser's error, placed at the key.
  [[nodiscard]] Status checked(Status s) const {
    if (s.ok()) return s;
    return error(fmt::format("'{}': {}", key_, s.message()));
  }
  // A string key read by `parse` (parseLogLevel, parseKernelMode, ...).
  template <typename T>
  Status wantParsed(Status (*parse)(std::string_view, T&), T& dst) const {
    std::string text;
    if (Status s = wantString(text); !s.ok()) return s;
    return checked(parse(text, dst));
  }

 private:
  std::string_view name_;
  std::string_view key_;
  const toml::node& node_;
};

// More engine limit keys (ftpalgd.toml(5), "RESOURCE LIMITS"), applied after the limit keys.
constexpr std::string_view kEngineKeys[] = {
    "max_line",      "max_in_flight",          "max_expectations", "idle_timeout",
    "close_timeout", "max_held_per_direction", "gap_drop_limit",   "max_data_keys"};

Status applyEngineKey(const KeyReader& r, DaemonConfig& cfg) {
  namespace d = defaults;
  const std::string_view key = r.key();
  if (key == "max_line") return r.wantInt(cfg.maxLine, d::kMinMaxLine, d::kMaxMaxLine);
  if (key == "max_in_flight") {
    return r.wantInt(cfg.maxInFlight, d::kMinMaxInFlight, d::kMaxMaxInFlight);
  }
  if (key == "max_expectations") return r.wantInt(cfg.maxExpectations, 1, d::kMaxMaxExpectations);
  if (key == "idle_timeout") {
    return r.wantInt(cfg.idleTimeoutS, d::kMinIdleTimeoutS, d::kMaxIdleTimeoutS);
  }
  if (key == "close_timeout") return r.wantInt(cfg.closeTimeoutS, 1, d::kMaxLimitTimeoutS);
  if (key == "max_held_per_direction") {
    return r.wantInt(cfg.maxHeldPerDirection, 1, d::kMaxHeldPerDirection);
  }
  if (key == "gap_drop_limit") return r.wantInt(cfg.gapDropLimit, 1, d::kMaxGapDropLimit);
  if (key == "max_data_keys") {
    return r.wantInt(cfg.maxDataKeys, d::kMinMaxDataKeys, d::kMaxMaxDataKeys);
  }
  return r.error(fmt::format("unknown key '{}'", key));
}

// Cross-key checks of the engine limits, placed at the key that broke them.
Status checkEngineKeys(std::string_view name, const toml::table& tbl, const DaemonConfig& cfg) {
  if (cfg.maxInFlight < 2 * cfg.maxLine) {
    const toml::node* at = tbl.get("max_in_flight");
    if (at == nullptr) at = tbl.get("max_line");
    const std::string what =
        fmt::format("'max_in_flight' ({}) must be at least twice 'max_line' ({})", cfg.maxInFlight,
                    cfg.maxLine);
    if (at != nullptr) return nodeError(name, *at, what);
    return Status::error(fmt::format("{}: {}", name, what));
  }
  return {};
}

// Resource limit keys (applied after the keys above).
constexpr std::string_view kLimitKeys[] = {"max_sessions", "max_buffers", "half_open_timeout",
                                           "hold_timeout", "max_held"};

Status applyLimitKey(const KeyReader& r, DaemonConfig& cfg) {
  const std::string_view key = r.key();
  if (key == "max_sessions") return r.wantInt(cfg.maxSessions, 1, defaults::kMaxMaxSessions);
  if (key == "max_buffers") return r.wantInt(cfg.maxBuffers, 1, defaults::kMaxMaxBuffers);
  if (key == "half_open_timeout") {
    return r.wantInt(cfg.halfOpenTimeoutS, 1, defaults::kMaxLimitTimeoutS);
  }
  if (key == "hold_timeout") return r.wantInt(cfg.holdTimeoutS, 1, defaults::kMaxLimitTimeoutS);
  if (key == "max_held") return r.wantInt(cfg.maxHeld, 1, kMaxQueueMaxLen);
  return applyEngineKey(r, cfg);
}

// Keys of sessions that outlive the process (docs/daemon.md, "Restarts and failures").
constexpr std::string_view kStateKeys[] = {"state_dir", "session_mark"};

bool isStateKey(std::string_view key) {
  for (std::string_view k : kStateKeys) {
    if (k == key) return true;
  }
  return false;
}

// "state_dir": an absolute path or "" (none); "session_mark": like "mark", or 0 (none).
Status applyStateKey(const KeyReader& r, DaemonConfig& cfg) {
  if (r.key() == "state_dir") {
    if (Status s = r.wantString(cfg.stateDir); !s.ok()) return s;
    if (!cfg.stateDir.empty() && cfg.stateDir.front() != '/') {
      return r.error("'state_dir' must be an absolute path or \"\"");
    }
    return {};
  }
  if (const auto* i = r.node().as_integer()) {
    if (i->get() == 0) {
      cfg.sessionMark = 0;
      return {};
    }
    if (i->get() < 0) return r.error("'session_mark' must be 0..0xffffffff");
    return r.checked(parseMark(std::to_string(i->get()), cfg.sessionMark));
  }
  return r.wantParsed(parseMark, cfg.sessionMark);
}

// "queues": a string like "0-3" or an integer.
Status applyQueues(const KeyReader& r, DaemonConfig& cfg) {
  if (const auto* i = r.node().as_integer()) {
    return r.checked(parseQueueList(std::to_string(i->get()), cfg.queues));
  }
  std::string text;
  if (Status s = r.wantString(text); !s.ok()) {
    return r.error("'queues' must be a string like \"0-3\" or an integer");
  }
  return r.checked(parseQueueList(text, cfg.queues));
}

// "mark": an integer or a string ("0xf7a1").
Status applyMark(const KeyReader& r, DaemonConfig& cfg) {
  if (const auto* i = r.node().as_integer()) {
    if (i->get() <= 0) return r.error("'mark' must be 1..0xffffffff");
    return r.checked(parseMark(std::to_string(i->get()), cfg.mark));
  }
  return r.wantParsed(parseMark, cfg.mark);
}

Status applyTable(const KeyReader& r, DaemonConfig& cfg) {
  if (Status s = r.wantString(cfg.table); !s.ok()) return s;
  if (cfg.table.empty() || cfg.table.size() > 32)
    return r.error("'table' must be 1..32 characters");
  return {};
}

// "ports": an array of port numbers (empty: none besides 21).
Status applyPorts(const KeyReader& r, DaemonConfig& cfg) {
  const auto* arr = r.node().as_array();
  if (arr == nullptr) return r.error("'ports' must be an array of port numbers");
  std::string joined;
  for (const toml::node& el : *arr) {
    const auto* i = el.as_integer();
    if (i == nullptr || i->get() < 1 || i->get() > 65535) {
      return r.errorAt(el, "'ports' elements must be integers 1..65535");
    }
    if (!joined.empty()) joined += ',';
    joined += std::to_string(i->get());
  }
  if (joined.empty()) {
    cfg.ports.clear();
    return {};
  }
  return r.checked(parsePortList(joined, cfg.ports));
}

// Privilege keys (docs/daemon.md, "Privileges").
constexpr std::string_view kPrivilegeKeys[] = {"user", "group", "seccomp"};

Status applyPrivilegeKey(const KeyReader& r, DaemonConfig& cfg) {
  if (r.key() == "seccomp") return r.wantBool(cfg.seccomp);
  std::string& dst = r.key() == "user" ? cfg.user : cfg.group;
  if (Status s = r.wantString(dst); !s.ok()) return s;
  // "" is the default: the user ftpalg if it exists (its primary group).
  if (dst.size() > 32) return r.error(fmt::format("'{}' must be at most 32 characters", r.key()));
  return {};
}

// Metrics keys (docs/daemon.md, "Metrics").
constexpr std::string_view kMetricsKeys[] = {"metrics_socket", "metrics_listen",
                                             "metrics_textfile"};

bool isMetricsKey(std::string_view key) {
  return std::find(std::begin(kMetricsKeys), std::end(kMetricsKeys), key) != std::end(kMetricsKeys);
}

// An absolute path or "" (none); a Unix socket's path must fit sockaddr_un.
Status checkMetricsPath(std::string_view key, std::string_view path) {
  if (path.empty()) return {};
  if (path.front() != '/') {
    return Status::error(fmt::format("'{}' must be an absolute path or \"\"", key));
  }
  if (key == "metrics_socket" && path.size() > 107) {
    return Status::error(fmt::format("'{}' must be at most 107 characters", key));
  }
  return {};
}

// The control socket keys (docs/daemon.md, "Status").
constexpr std::string_view kControlKeys[] = {"control_socket", "control_group"};

bool isControlKey(std::string_view key) {
  return std::find(std::begin(kControlKeys), std::end(kControlKeys), key) != std::end(kControlKeys);
}

// "control_socket": an absolute path of at most 107 bytes, or "" (none); "control_group": a
// group name of at most 32 characters, or "".
Status applyControlKey(const KeyReader& r, DaemonConfig& cfg) {
  if (r.key() == "control_group") {
    if (Status s = r.wantString(cfg.controlGroup); !s.ok()) return s;
    if (cfg.controlGroup.size() > 32)
      return r.error("'control_group' must be at most 32 characters");
    return {};
  }
  if (Status s = r.wantString(cfg.controlSocket); !s.ok()) return s;
  if (!cfg.controlSocket.empty() &&
      (cfg.controlSocket.front() != '/' || cfg.controlSocket.size() > 107)) {
    return r.error("'control_socket' must be an absolute path of at most 107 bytes or \"\"");
  }
  return {};
}

Status applyMetricsKey(const KeyReader& r, DaemonConfig& cfg) {
  std::string& dst = r.key() == "metrics_socket"   ? cfg.metricsSocket
                     : r.key() == "metrics_listen" ? cfg.metricsListen
                                                   : cfg.metricsTextfile;
  if (Status s = r.wantString(dst); !s.ok()) return s;
  if (r.key() == "metrics_listen") return r.checked(checkMetricsListen(dst));
  if (Status s = checkMetricsPath(r.key(), dst); !s.ok()) return r.error(s.message());
  return {};
}

// Queue rule keys (docs/daemon.md, "ACK bypass"): "queue_everything" queues the pure ACKs of
// every control connection too (no bypass rules).
constexpr std::string_view kQueueRuleKeys[] = {"queue_everything"};

bool isQueueRuleKey(std::string_view key) {
  return std::find(std::begin(kQueueRuleKeys), std::end(kQueueRuleKeys), key) !=
         std::end(kQueueRuleKeys);
}

// Queue spreading key (docs/daemon.md, "Scaling over queues"): "spread_connections" spreads
// connections, not address pairs, over a queue range.
constexpr std::string_view kSpreadKeys[] = {"spread_connections"};

bool isSpreadKey(std::string_view key) {
  return std::find(std::begin(kSpreadKeys), std::end(kSpreadKeys), key) != std::end(kSpreadKeys);
}

// Applies one key. `key` has been checked to be known.
Status applyKey(std::string_view name, std::string_view key, const toml::node& node,
                DaemonConfig& cfg) {
  const KeyReader r(name, key, node);
  if (key == "queues") return applyQueues(r, cfg);
  if (key == "kernel_mode") return r.wantParsed(parseKernelMode, cfg.kernelMode);
  if (key == "install_rules") return r.wantBool(cfg.installRules);
  if (key == "fail_open") return r.wantBool(cfg.failOpen);
  if (key == "events") return r.wantString(cfg.eventsPath);
  if (key == "log_level") return r.wantParsed(parseLogLevel, cfg.logLevel);
  if (key == "mark") return applyMark(r, cfg);
  if (key == "pinhole_timeout") return r.wantInt(cfg.pinholeTimeoutS, 1, kMaxPinholeTimeoutS);
  if (key == "queue_maxlen") return r.wantInt(cfg.queueMaxLen, kMinQueueMaxLen, kMaxQueueMaxLen);
  if (key == "allow_bounce") return r.wantBool(cfg.allowBounce);
  if (key == "allow_low_ports") return r.wantBool(cfg.allowLowPorts);
  if (key == "allow_long_forms") return r.wantBool(cfg.allowLongForms);
  if (key == "table") return applyTable(r, cfg);
  if (key == "ports") return applyPorts(r, cfg);
  if (isStateKey(key)) return applyStateKey(r, cfg);
  if (isQueueRuleKey(key)) return r.wantBool(cfg.queueEverything);
  if (isSpreadKey(key)) return r.wantBool(cfg.spreadConnections);
  // Policy beyond the switches (policy_keys.cc) and where events go (journal or not).
  if (isPolicyKey(key)) return applyPolicyKey(name, key, node, cfg);
  if (key == "log_target") return r.wantParsed(parseLogTarget, cfg.logTarget);
  if (isControlKey(key)) return applyControlKey(r, cfg);
  if (isCtStateKey(key)) return applyCtStateKey(name, key, node, cfg);
  for (std::string_view k : kPrivilegeKeys) {
    if (key == k) return applyPrivilegeKey(r, cfg);
  }
  if (isMetricsKey(key)) return applyMetricsKey(r, cfg);
  return applyLimitKey(r, cfg);
}

constexpr std::string_view kKnownKeys[] = {"queues",
                                           "kernel_mode",
                                           "install_rules",
                                           "fail_open",
                                           "events",
                                           "log_level",
                                           "mark",
                                           "pinhole_timeout",
                                           "queue_maxlen",
                                           "allow_bounce",
                                           "allow_low_ports",
                                           "allow_long_forms",
                                           "table",
                                           "ports"};

}  // namespace

Status applyConfigText(std::string_view text, std::string_view name, DaemonConfig& cfg) {
  toml::table tbl;
  try {
    tbl = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    return Status::error(fmt::format("{}: {}", where(name, e.source()), e.description()));
  }
  DaemonConfig next = cfg;
  for (auto&& [key, node] : tbl) {
    bool known = false;
    for (std::string_view k : kKnownKeys) known = known || key.str() == k;
    for (std::string_view k : kLimitKeys) known = known || key.str() == k;
    known = known || isStateKey(key.str()) || isQueueRuleKey(key.str()) || isSpreadKey(key.str());
    known = known || isStateKey(key.str());
    known = known || isControlKey(key.str());
    known = known || isCtStateKey(key.str());
    for (std::string_view k : kPrivilegeKeys) known = known || key.str() == k;
    for (std::string_view k : kEngineKeys) known = known || key.str() == k;
    known = known || isMetricsKey(key.str());
    known = known || isPolicyKey(key.str()) || key.str() == "log_target";
    if (!known) {
      return Status::error(
          fmt::format("{}: unknown key '{}'", where(name, key.source()), key.str()));
    }
    if (Status s = applyKey(name, key.str(), node, next); !s.ok()) return s;
  }
  if (Status s = checkEngineKeys(name, tbl, next); !s.ok()) return s;
  cfg = std::move(next);
  return {};
}

std::vector<std::string_view> configKeys() {
  std::vector<std::string_view> keys(std::begin(kKnownKeys), std::end(kKnownKeys));
  keys.insert(keys.end(), std::begin(kLimitKeys), std::end(kLimitKeys));
  keys.insert(keys.end(), std::begin(kEngineKeys), std::end(kEngineKeys));
  keys.insert(keys.end(), std::begin(kStateKeys), std::end(kStateKeys));
  keys.insert(keys.end(), std::begin(kPrivilegeKeys), std::end(kPrivilegeKeys));
  keys.insert(keys.end(), std::begin(kMetricsKeys), std::end(kMetricsKeys));
  keys.insert(keys.end(), std::begin(kQueueRuleKeys), std::end(kQueueRuleKeys));
  keys.insert(keys.end(), std::begin(kPolicyKeys), std::end(kPolicyKeys));
  keys.emplace_back("log_target");
  keys.insert(keys.end(), std::begin(kControlKeys), std::end(kControlKeys));
  keys.insert(keys.end(), std::begin(kSpreadKeys), std::end(kSpreadKeys));
  keys.insert(keys.end(), std::begin(kCtStateKeys), std::end(kCtStateKeys));
  return keys;
}

Status applyConfigFile(const std::string& path, DaemonConfig& cfg) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::error(fmt::format("cannot read {}", path));
  return applyConfigText(ss.str(), path, cfg);
}

Status validate(const DaemonConfig& cfg) {
  if (cfg.queues.empty()) return Status::error("no queue given");
  if (cfg.kernelMode == KernelMode::Cthelper && cfg.queues.size() != 1) {
    return Status::error("--kernel-mode cthelper serves exactly one queue (the helper's)");
  }
  if (cfg.installRules) {
    for (size_t i = 1; i < cfg.queues.size(); ++i) {
      if (cfg.queues[i] != cfg.queues[0] + i) {
        return Status::error(
            "--install-rules needs one contiguous queue range (NFQUEUE --queue-balance)");
      }
    }
  }
  return {};
}

namespace {

// The command line's values, before they are applied over the config file.
struct Flags {
  std::string configPath, queues, kernelMode, events, logLevel, mark, ports;
  uint32_t pinholeTimeout = 0;
  uint32_t queueMaxLen = 0;
  bool installRules = false, failOpen = false, allowBounce = false, allowLowPorts = false,
       allowLongForms = false, printRules = false;
  std::string stateDir, sessionMark;
  bool removeTable = false;
  bool removeHelper = false, disableHelper = false;
  std::string user, group;
  bool noSeccomp = false;
  std::string metricsSocket, metricsListen, metricsTextfile;
  bool queueEverything = false;
  std::string controlSocket;
  bool spreadConnections = false;
  CtStateFlags ctState;
};

void addOptions(CLI::App& app, Flags& f) {
  app.add_option("--config", f.configPath, "TOML configuration file")->type_name("FILE");
  app.add_option("--queues", f.queues, "NFQUEUE numbers, one thread each (default 0)")
      ->type_name("N[-M][,...]");
  app.add_option("--kernel-mode", f.kernelMode, "auto, cthelper or pinhole (default auto)")
      ->type_name("MODE");
  app.add_flag("--install-rules", f.installRules,
               "Add the NFQUEUE rules for the control ports at start, remove them at exit");
  app.add_flag("--print-rules", f.printRules, "Print the rules an admin adds, then exit");
  app.add_flag("--remove-table", f.removeTable,
               "Delete the pinhole table (ftpalg_q<first queue> or 'table'), then exit");
  app.add_flag("--fail-open", f.failOpen,
               "Accept instead of drop when a queue is full; rules get --queue-bypass");
  app.add_option("--events", f.events, "Events as JSON lines ('-' = stdout)")->type_name("FILE");
  app.add_option("--log-level", f.logLevel, "error, warning, info (default) or debug")
      ->type_name("LEVEL");
  app.add_option("--mark", f.mark, "Conntrack mark of admitted data connections (default 0xf7a1)")
      ->type_name("MARK");
  app.add_option("--pinhole-timeout", f.pinholeTimeout,
                 "Seconds an announced data connection may take to start (default 30)")
      ->type_name("SECONDS");
  app.add_option("--queue-maxlen", f.queueMaxLen, "Packets the kernel may queue per queue")
      ->type_name("N");
  app.add_flag("--allow-bounce", f.allowBounce,
               "Admit PORT/EPRT/227 that name a host other than the announcing peer");
  app.add_flag("--allow-low-ports", f.allowLowPorts, "Admit data ports below 1024");
  app.add_flag("--allow-long-forms", f.allowLongForms, "Handle LPRT/LPSV (RFC 1639)");
  app.add_option("--ports", f.ports, "More FTP control ports besides 21, e.g. 2121,2122")
      ->type_name("PORT[,PORT...]");
  app.add_option("--state-dir", f.stateDir,
                 "Session snapshots for a successor, in DIR/net-<netns>/queue-N (default "
                 "/run/ftpalg; '' keeps none)")
      ->type_name("DIR");
  app.add_option("--session-mark", f.sessionMark,
                 "Conntrack mark of rewritten control connections (default 0xf7a2; 0: none)")
      ->type_name("MARK");
  // Expectation mode's explicit cleanup: a stop leaves the helper registered for the next start.
  app.add_flag("--remove-helper", f.removeHelper,
               "Remove expectation mode's table and userspace conntrack helper (its pending "
               "expectations go too), then exit");
  app.add_flag("--disable-helper", f.disableHelper,
               "Disable expectation mode's helper if a crashed instance left it enabled, then "
               "exit (systemd ExecStopPost)");
  app.add_option("--user", f.user, "Run as this user after setup (default: ftpalg if it exists)")
      ->type_name("USER");
  app.add_option("--group", f.group, "Run with this group (default: the user's)")
      ->type_name("GROUP");
  app.add_flag("--no-seccomp", f.noSeccomp, "No system call allow-list (debugging)");
  app.add_option("--metrics-socket", f.metricsSocket,
                 "Unix socket answering GET /metrics (default /run/ftpalg/metrics.sock; '' none)")
      ->type_name("PATH");
  app.add_option("--metrics-listen", f.metricsListen,
                 "Loopback address answering GET /metrics, e.g. 127.0.0.1:9477")
      ->type_name("ADDR:PORT");
  app.add_option("--metrics-textfile", f.metricsTextfile,
                 "Write the metrics to FILE every 5 s (node_exporter textfile collector)")
      ->type_name("FILE");
  app.add_flag("--queue-everything", f.queueEverything,
               "Installed rules queue pure ACKs too (default: those of unshifted sessions pass)");
  app.add_flag("--spread-connections", f.spreadConnections,
               "Installed rules spread connections over the queues by a symmetric 5-tuple hash "
               "(default: the kernel's balance over the address pair)");
  app.add_option("--control-socket", f.controlSocket,
                 "Admin control socket for `ftpalg status` (default /run/ftpalg/control.sock; "
                 "'' serves none)")
      ->type_name("PATH");
  addCtStateOptions(app, f.ctState);
}

// The metrics flags.
Status applyMetricsFlags(const CLI::App& app, const Flags& f, DaemonConfig& cfg) {
  const std::pair<const char*, std::pair<const std::string*, std::string*>> flags[] = {
      {"--metrics-socket", {&f.metricsSocket, &cfg.metricsSocket}},
      {"--metrics-listen", {&f.metricsListen, &cfg.metricsListen}},
      {"--metrics-textfile", {&f.metricsTextfile, &cfg.metricsTextfile}},
  };
  for (const auto& [flag, values] : flags) {
    if (app.count(flag) == 0) continue;
    const std::string_view key = std::string_view(flag).substr(2);
    Status s =
        key == "metrics-listen"
            ? checkMetricsListen(*values.first)
            : checkMetricsPath(key == "metrics-socket" ? "metrics_socket" : "metrics_textfile",
                               *values.first);
    if (!s.ok()) return Status::error(fmt::format("{}: {}", flag, s.message()));
    *values.second = *values.first;
  }
  return {};
}

// The flags of sessions that outlive the process.
Status applyStateFlags(const CLI::App& app, const Flags& f, DaemonConfig& cfg) {
  if (app.count("--state-dir") > 0) {
    if (!f.stateDir.empty() && f.stateDir.front() != '/') {
      return Status::error("--state-dir: must be an absolute path or ''");
    }
    cfg.stateDir = f.stateDir;
  }
  if (app.count("--session-mark") > 0) {
    if (f.sessionMark == "0") {
      cfg.sessionMark = 0;
    } else if (Status s = parseMark(f.sessionMark, cfg.sessionMark); !s.ok()) {
      return Status::error(fmt::format("--session-mark: {}", s.message()));
    }
  }
  return {};
}

// The flags given on the command line, applied over `cfg` (defaults, then the config file).
Status applyFlags(const CLI::App& app, const Flags& f, DaemonConfig& cfg) {
  const auto given = [&](const char* name) { return app.count(name) > 0; };
  const auto flagError = [](const char* flag, const Status& s) {
    return Status::error(fmt::format("{}: {}", flag, s.message()));
  };
  if (given("--queues")) {
    if (Status s = parseQueueList(f.queues, cfg.queues); !s.ok()) return flagError("--queues", s);
  }
  if (given("--kernel-mode")) {
    if (Status s = parseKernelMode(f.kernelMode, cfg.kernelMode); !s.ok()) {
      return flagError("--kernel-mode", s);
    }
  }
  if (given("--log-level")) {
    if (Status s = parseLogLevel(f.logLevel, cfg.logLevel); !s.ok()) {
      return flagError("--log-level", s);
    }
  }
  if (given("--mark")) {
    if (Status s = parseMark(f.mark, cfg.mark); !s.ok()) return flagError("--mark", s);
  }
  if (given("--ports")) {
    if (Status s = parsePortList(f.ports, cfg.ports); !s.ok()) return flagError("--ports", s);
  }
  if (given("--pinhole-timeout")) {
    if (f.pinholeTimeout < 1 || f.pinholeTimeout > kMaxPinholeTimeoutS) {
      return Status::error(
          fmt::format("--pinhole-timeout: must be 1..{} seconds", kMaxPinholeTimeoutS));
    }
    cfg.pinholeTimeoutS = f.pinholeTimeout;
  }
  if (given("--queue-maxlen")) {
    if (f.queueMaxLen < kMinQueueMaxLen || f.queueMaxLen > kMaxQueueMaxLen) {
      return Status::error(
          fmt::format("--queue-maxlen: must be {}..{}", kMinQueueMaxLen, kMaxQueueMaxLen));
    }
    cfg.queueMaxLen = f.queueMaxLen;
  }
  if (given("--events")) cfg.eventsPath = f.events;
  if (f.installRules) cfg.installRules = true;
  if (f.failOpen) cfg.failOpen = true;
  if (f.allowBounce) cfg.allowBounce = true;
  if (f.allowLowPorts) cfg.allowLowPorts = true;
  if (f.allowLongForms) cfg.allowLongForms = true;
  if (given("--user")) cfg.user = f.user;
  if (given("--group")) cfg.group = f.group;
  if (f.noSeccomp) cfg.seccomp = false;
  if (Status s = applyMetricsFlags(app, f, cfg); !s.ok()) return s;
  if (f.queueEverything) cfg.queueEverything = true;
  if (f.spreadConnections) cfg.spreadConnections = true;
  if (given("--control-socket")) {
    if (!f.controlSocket.empty() &&
        (f.controlSocket.front() != '/' || f.controlSocket.size() > 107)) {
      return Status::error("--control-socket: must be an absolute path of at most 107 bytes or ''");
    }
    cfg.controlSocket = f.controlSocket;
  }
  if (Status s = applyCtStateFlags(app, f.ctState, cfg); !s.ok()) return s;
  return applyStateFlags(app, f, cfg);
}

}  // namespace

Status parseCommandLine(int argc, const char* const* argv, CommandLine& out) {
  CLI::App app("FTP application-level gateway daemon (NFQUEUE)", "ftpalgd");
  app.set_version_flag("--version", kVersion);
  app.footer("A flag given here overrides the same key in the --config file. See docs/daemon.md.");
  Flags f;
  addOptions(app, f);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      out.exit = true;
      out.exitCode = app.exit(e);
      return {};
    }
    return Status::error(e.what());
  }
  DaemonConfig cfg;
  if (!f.configPath.empty()) {
    if (Status s = applyConfigFile(f.configPath, cfg); !s.ok()) return s;
  }
  if (Status s = applyFlags(app, f, cfg); !s.ok()) return s;
  if (Status s = validate(cfg); !s.ok()) return s;
  if (cfg.table.empty()) cfg.table = defaults::tableName(cfg.queues.front());
  out.config = std::move(cfg);
  out.printRules = f.printRules;
  out.removeTable = f.removeTable;
  out.removeHelper = f.removeHelper;
  out.disableHelper = f.disableHelper;
  return {};
}

}  // namespace ftpalg::daemon
