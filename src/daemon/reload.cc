#include "daemon/reload.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <utility>

#include "daemon/ct_state_keys.h"
#include "daemon/log.h"
#include "daemon/policy_keys.h"
#include "daemon/queue_worker.h"
#include "daemon/worker_settings.h"

namespace ftpalg::daemon {
namespace {

// Policy and timeouts: the engine of each queue takes them between two batches
// (Engine::applyPolicy). Everything else sizes or binds the kernel side.
constexpr std::string_view kLiveKeys[] = {"log_level", "allow_bounce", "allow_low_ports",
                                          "allow_long_forms", "half_open_timeout", "hold_timeout",
                                          "idle_timeout", "close_timeout", "gap_drop_limit",
                                          // Policy beyond the switches (policy_keys.cc).
                                          "pasv_address_mismatch", "policy"};

std::string text(bool b) { return b ? "true" : "false"; }
std::string text(uint32_t v) { return std::to_string(v); }
std::string text(const std::string& s) { return fmt::format("\"{}\"", s); }
std::string text(const std::vector<uint16_t>& v) { return fmt::format("[{}]", fmt::join(v, ",")); }

}  // namespace

std::vector<std::pair<std::string_view, std::string>> keyValues(const DaemonConfig& c) {
  std::vector<std::pair<std::string_view, std::string>> kv = {
      {"queues", text(c.queues)},
      {"kernel_mode", std::string(kernelModeName(c.kernelMode))},
      {"install_rules", text(c.installRules)},
      {"fail_open", text(c.failOpen)},
      {"events", text(c.eventsPath)},
      {"log_level", std::string(logLevelName(c.logLevel))},
      {"mark", fmt::format("0x{:x}", c.mark)},
      {"pinhole_timeout", text(c.pinholeTimeoutS)},
      {"queue_maxlen", text(c.queueMaxLen)},
      {"allow_bounce", text(c.allowBounce)},
      {"allow_low_ports", text(c.allowLowPorts)},
      {"allow_long_forms", text(c.allowLongForms)},
      {"table", text(c.table)},
      {"ports", text(c.ports)},
      {"max_sessions", text(c.maxSessions)},
      {"max_buffers", text(c.maxBuffers)},
      {"half_open_timeout", text(c.halfOpenTimeoutS)},
      {"hold_timeout", text(c.holdTimeoutS)},
      {"max_held", text(c.maxHeld)},
      {"max_line", text(c.maxLine)},
      {"max_in_flight", text(c.maxInFlight)},
      {"max_expectations", text(c.maxExpectations)},
      {"idle_timeout", text(c.idleTimeoutS)},
      {"close_timeout", text(c.closeTimeoutS)},
      {"max_held_per_direction", text(c.maxHeldPerDirection)},
      {"gap_drop_limit", text(c.gapDropLimit)},
      {"max_data_keys", text(c.maxDataKeys)},
      {"state_dir", text(c.stateDir)},
      {"session_mark", fmt::format("0x{:x}", c.sessionMark)},
      {"user", text(c.user)},
      {"group", text(c.group)},
      {"seccomp", text(c.seccomp)},
      {"metrics_socket", text(c.metricsSocket)},
      {"metrics_listen", text(c.metricsListen)},
      {"metrics_textfile", text(c.metricsTextfile)},
      {"queue_everything", text(c.queueEverything)},
      {"pasv_address_mismatch", std::string(pasvMismatchName(c.pasvAddressMismatch))},
      {"policy", overridesText(c.overrides)},
      {"log_target", std::string(logTargetName(c.logTarget))},
      {"control_socket", text(c.controlSocket)},
      {"control_group", text(c.controlGroup)},
      {"spread_connections", text(c.spreadConnections)},
      {"conntrack_state", std::string(ctStateName(c.conntrackState))},
      {"conntrack_state_bit", text(c.conntrackStateBit)},
  };
  return kv;
}

bool liveKey(std::string_view key) {
  return std::find(std::begin(kLiveKeys), std::end(kLiveKeys), key) != std::end(kLiveKeys);
}

std::vector<KeyChange> configChanges(const DaemonConfig& running, const DaemonConfig& next) {
  const auto a = keyValues(running);
  const auto b = keyValues(next);
  std::vector<KeyChange> changes;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].second != b[i].second) {
      changes.push_back({a[i].first, a[i].second, b[i].second, liveKey(a[i].first)});
    }
  }
  return changes;
}

ReloadResult planReload(const DaemonConfig& running, const Status& parsed,
                        const DaemonConfig& next) {
  if (!parsed.ok()) {
    return {false,
            fmt::format("reload rejected, the running configuration stays: {}", parsed.message())};
  }
  const std::vector<KeyChange> changes = configChanges(running, next);
  if (changes.empty()) return {true, "reload: configuration unchanged"};
  std::vector<std::string> live;
  std::vector<std::string> fixed;
  for (const KeyChange& c : changes) {
    (c.live ? live : fixed).push_back(fmt::format("{} {} -> {}", c.key, c.from, c.to));
  }
  if (!fixed.empty()) {
    return {false, fmt::format("reload rejected, the running configuration stays: {} need{} a "
                               "restart (systemctl restart ftpalgd)",
                               fmt::join(fixed, ", "), fixed.size() == 1 ? "s" : "")};
  }
  return {true, fmt::format("reload: {} (new announcements follow it; sessions kept)",
                            fmt::join(live, ", "))};
}

Reloader::Reloader(std::vector<std::string> args, DaemonConfig running,
                   std::function<void(const DaemonConfig&)> apply)
    : args_(std::move(args)), running_(std::move(running)), apply_(std::move(apply)) {}

ReloadResult Reloader::reload() {
  std::vector<const char*> argv;
  argv.reserve(args_.size());
  for (const std::string& a : args_) argv.push_back(a.c_str());
  CommandLine cl;
  const Status parsed = parseCommandLine(static_cast<int>(argv.size()), argv.data(), cl);
  ReloadResult r = planReload(running_, parsed, cl.config);
  if (r.applied && !(cl.config == running_)) {
    apply_(cl.config);
    running_ = cl.config;
  }
  logf(r.applied ? LogLevel::Info : LogLevel::Warning, "{}", r.message);
  return r;
}

void applyReloaded(const DaemonConfig& next, const std::vector<QueueWorker*>& workers) {
  setLogLevel(next.logLevel);
  for (QueueWorker* w : workers) w->requestPolicy(workerSettings(next, w->queueNum()).engine);
}

namespace {
std::vector<std::string>& commandLine() {
  static std::vector<std::string> args;
  return args;
}
}  // namespace

void rememberCommandLine(int argc, const char* const* argv) {
  commandLine().assign(argv, argv + argc);
}

const std::vector<std::string>& rememberedCommandLine() { return commandLine(); }

}  // namespace ftpalg::daemon
