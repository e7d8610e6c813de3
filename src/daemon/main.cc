// ftpalgd: the FTP ALG daemon. Binds the configured NFQUEUE queues (one thread each), adopts or
// creates the pinhole table (and, with --install-rules, installs the queueing rules), and serves
// until SIGTERM or SIGINT; then stops the threads, drops held packets, removes the queueing rules
// it installed (the pinhole table stays for a successor) and exits 0.
// Exit status: 2 for configuration errors ("ftpalgd: error: file:line:col: message"), 1 when
// the kernel side cannot be set up.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>

#include "daemon/config.h"
#include "daemon/control_server.h"
#include "daemon/cthelper_mode.h"
#include "daemon/event_sink.h"
#include "daemon/journal_sink.h"
#include "daemon/kernel_mode.h"
#include "daemon/log.h"
#include "daemon/metrics_server.h"
#include "daemon/pinhole_mode.h"
#include "daemon/privileges.h"
#include "daemon/queue_rules.h"
#include "daemon/reload.h"
#include "daemon/worker_settings.h"
#include "ftpalg/kernel/nft_queue_probe.h"
#include "ftpalg/kernel/queue_rules_text.h"

namespace {

using ftpalg::daemon::logf;
using ftpalg::daemon::LogLevel;

constexpr int kExitSetup = 1;
constexpr int kExitConfig = 2;

int configError(const std::string& message) {
  std::fputs(("ftpalgd: error: " + message + "\n").c_str(), stderr);
  return kExitConfig;
}

}  // namespace

int main(int argc, char** argv) {
  namespace d = ftpalg::daemon;
  d::rememberCommandLine(argc, argv);  // configuration reloads parse it again
  d::CommandLine cl;
  if (ftpalg::Status s = d::parseCommandLine(argc, argv, cl); !s.ok()) {
    return configError(s.message());
  }
  if (cl.exit) return cl.exitCode;
  const d::DaemonConfig& cfg = cl.config;
  d::setLogLevel(cfg.logLevel);

  if (cl.removeTable) {
    if (ftpalg::Status s = d::removePinholeTable(cfg); !s.ok()) {
      logf(LogLevel::Error, "removing table inet {}: {}", cfg.table, s.message());
      return kExitSetup;
    }
    logf(LogLevel::Info, "removed table inet {}", cfg.table);
    return 0;
  }
  if (cl.removeHelper) {
    return d::removeCthelperState(cfg, workerSettings(cfg, cfg.queues.front()));
  }
  if (cl.disableHelper) return d::disableCthelper(cfg, workerSettings(cfg, cfg.queues.front()));

  const d::RuleSpec rules = d::ruleSpec(cfg);
  if (cl.printRules && (cfg.kernelMode == d::KernelMode::Cthelper ||
                        (cfg.kernelMode == d::KernelMode::Auto &&
                         d::chooseKernelMode(cfg.kernelMode).mode == d::KernelMode::Cthelper))) {
    std::fputs(ftpalg::kernel::helperRulesText(d::helperRuleSpec(cfg)).c_str(), stdout);
    return 0;
  }
  if (cl.printRules) {
    // What `ftpalg rules` prints for the same settings: the form the running kernel takes.
    const ftpalg::kernel::QueueFormChoice form =
        ftpalg::kernel::chooseQueueForm(ftpalg::kernel::probeNftQueue());
    std::fputs(ftpalg::kernel::adminRulesText(form, rules, ftpalg::kernel::QueueFamily::Inet,
                                              workerSettings(cfg, cfg.queues.front()).pinhole)
                   .c_str(),
               stdout);
    return 0;
  }

  // Signals are taken synchronously by the main thread; the queue threads never see them.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  const d::KernelModeChoice mode = d::chooseKernelMode(cfg.kernelMode);
  if (!mode.ok) {
    logf(LogLevel::Error, "kernel mode {}", mode.why);
    return kExitSetup;
  }
  logf(LogLevel::Info, "kernel mode {}", mode.why);
  if (!mode.defect.empty())
    logf(LogLevel::Warning, "known expectation-mode defect: {}", mode.defect);

  // Who the daemon becomes after setup (applied by the serve loop): resolved now, so that an
  // unknown user is a configuration error before anything is touched.
  d::PrivilegePlan privileges;
  if (ftpalg::Status s = d::planPrivileges(cfg, geteuid(), privileges); !s.ok()) {
    return configError(s.message());
  }
  d::registerPrivilegePlan(privileges);
  d::MetricsSettings metrics;
  metrics.socketPath = cfg.metricsSocket;
  metrics.listen = cfg.metricsListen;
  metrics.textfile = cfg.metricsTextfile;
  d::registerMetricsSettings(metrics);
  d::registerControlSettings({cfg.controlSocket, cfg.controlGroup,
                              mode.mode == d::KernelMode::Cthelper ? "expectation" : "pinhole"});

  d::EventSink events;
  if (ftpalg::Status s = events.open(cfg.eventsPath); !s.ok()) return configError(s.message());
  d::JournalSink journal;  // events as structured journal entries (log_target)
  d::startEventJournal(cfg.logTarget, journal);
  if (mode.mode == d::KernelMode::Cthelper) {
    const int rc = d::runCthelperMode(cfg, workerSettings(cfg, cfg.queues.front()), events, sigs);
    events.close();
    return d::privilegeDropFailed() ? kExitSetup : rc;
  }

  const int rc = d::runPinholeMode(cfg, rules, events, sigs);  // closes `events` itself
  return d::privilegeDropFailed() ? kExitSetup : rc;
}
