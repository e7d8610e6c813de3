// Configuration reload (SIGHUP, `systemctl reload ftpalgd`): the command line ftpalgd was
// started with is parsed again (so the same --config file, the same flags over it), compared
// key by key with the running configuration, and either applied to every queue thread (policy
// and timeouts: new announcements follow it, sessions are kept) or rejected with the reason
// (a syntax or range error, or a key that sizes or binds the kernel side): the running
// configuration then stays. Either way one journal line says what happened.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"

namespace ftpalg::daemon {

// One key whose value differs between two configurations.
struct KeyChange {
  std::string_view key;
  std::string from;
  std::string to;
  bool live = false;  // a reload can apply it
};

// Every configuration key (configKeys() order) with its value as text.
std::vector<std::pair<std::string_view, std::string>> keyValues(const DaemonConfig& cfg);
// The keys a reload applies without a restart.
bool liveKey(std::string_view key);
// The keys whose values differ, in configKeys() order.
std::vector<KeyChange> configChanges(const DaemonConfig& running, const DaemonConfig& next);

// What a reload did.
struct ReloadResult {
  bool applied = false;  // the new configuration runs (also when nothing changed)
  std::string message;   // the journal line
};

// Decides a reload: `parsed` is the outcome of reading the new configuration `next`.
ReloadResult planReload(const DaemonConfig& running, const Status& parsed,
                        const DaemonConfig& next);

// Keeps the running configuration and applies reloads to it.
class Reloader {
 public:
  // `args`: the command line to parse again (argv[0] first). `apply` hands an accepted
  // configuration to the queue threads (and sets the log level).
  Reloader(std::vector<std::string> args, DaemonConfig running,
           std::function<void(const DaemonConfig&)> apply);
  // Parses, decides, applies or rejects, logs the outcome (info when applied, warning when
  // rejected).
  ReloadResult reload();
  [[nodiscard]] const DaemonConfig& running() const { return running_; }

 private:
  std::vector<std::string> args_;
  DaemonConfig running_;
  std::function<void(const DaemonConfig&)> apply_;
};

class QueueWorker;
// Hands an accepted configuration to running workers: the log level at once, each engine's
// policy and timeouts at its next serve round (QueueWorker::requestPolicy).
void applyReloaded(const DaemonConfig& next, const std::vector<QueueWorker*>& workers);

// main() remembers its command line for the reloads of either kernel mode.
void rememberCommandLine(int argc, const char* const* argv);
[[nodiscard]] const std::vector<std::string>& rememberedCommandLine();

}  // namespace ftpalg::daemon
