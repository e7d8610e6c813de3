// ftpalgd: the FTP ALG daemon. Binds the configured NFQUEUE queues (one thread each), installs
// the pinhole table (and, with --install-rules, the queueing rules), and serves until SIGTERM or
// SIGINT; then stops the threads, drops held packets, removes what it installed and exits 0.
// Exit status: 2 for configuration errors ("ftpalgd: error: file:line:col: message"), 1 when
// the kernel side cannot be set up.
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/config.h"
#include "daemon/cthelper_mode.h"
#include "daemon/event_sink.h"
#include "daemon/kernel_mode.h"
#include "daemon/log.h"
#include "daemon/queue_rules.h"
#include "daemon/queue_worker.h"
#include "daemon/serve_loop.h"
#include "ftpalg/kernel/nft_queue_probe.h"
#include "ftpalg/kernel/queue_rules.h"
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

std::string queueText(const std::vector<uint16_t>& q) {
  if (q.size() > 1 && q.back() - q.front() + 1 == static_cast<int>(q.size())) {
    return fmt::format("{}-{}", q.front(), q.back());
  }
  return fmt::format("{}", fmt::join(q, ","));
}

ftpalg::daemon::WorkerSettings workerSettings(const ftpalg::daemon::DaemonConfig& cfg,
                                              uint16_t queue) {
  ftpalg::daemon::WorkerSettings s;
  s.queue.queueNum = queue;
  s.queue.maxLen = cfg.queueMaxLen;
  s.queue.failOpen = cfg.failOpen;
  s.engine.allowBounce = cfg.allowBounce;
  s.engine.allowLowPorts = cfg.allowLowPorts;
  s.engine.allowLongForms = cfg.allowLongForms;
  s.engine.expectTimeoutNs = uint64_t{cfg.pinholeTimeoutS} * 1'000'000'000u;
  s.engine.ackSpace = ftpalg::core::AckSpace::Rewritten;
  for (size_t i = 0; i < cfg.ports.size() && i + 1 < s.engine.controlPorts.size(); ++i) {
    s.engine.controlPorts[i + 1] = cfg.ports[i];
  }
  s.pinhole.table = cfg.table;
  s.pinhole.ctMark = cfg.mark;
  s.pinhole.timeoutMs = cfg.pinholeTimeoutS * 1000;
  return s;
}

std::string statusLine(const std::vector<std::unique_ptr<ftpalg::daemon::QueueWorker>>& workers) {
  uint64_t packets = 0, admitted = 0, refused = 0, failures = 0, sessions = 0, held = 0;
  for (const auto& w : workers) {
    const auto& st = w->stats();
    packets += st.packets.load(std::memory_order_relaxed);
    admitted += st.admitted.load(std::memory_order_relaxed);
    refused += st.refused.load(std::memory_order_relaxed);
    failures += st.pinholeFailures.load(std::memory_order_relaxed);
    sessions += st.sessions.load(std::memory_order_relaxed);
    held += st.held.load(std::memory_order_relaxed);
  }
  return fmt::format(
      "{} packets, {} sessions, {} admitted, {} refused, {} pinhole failures, {} held", packets,
      sessions, admitted, refused, failures, held);
}

}  // namespace

int main(int argc, char** argv) {
  namespace d = ftpalg::daemon;
  d::CommandLine cl;
  if (ftpalg::Status s = d::parseCommandLine(argc, argv, cl); !s.ok()) {
    return configError(s.message());
  }
  if (cl.exit) return cl.exitCode;
  const d::DaemonConfig& cfg = cl.config;
  d::setLogLevel(cfg.logLevel);

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

  d::EventSink events;
  if (ftpalg::Status s = events.open(cfg.eventsPath); !s.ok()) return configError(s.message());
  if (mode.mode == d::KernelMode::Cthelper) {
    const int rc = d::runCthelperMode(cfg, workerSettings(cfg, cfg.queues.front()), events, sigs);
    events.close();
    return rc;
  }

  std::vector<std::unique_ptr<d::QueueWorker>> workers;
  for (uint16_t q : cfg.queues) {
    workers.push_back(std::make_unique<d::QueueWorker>(workerSettings(cfg, q), events));
    if (ftpalg::Status s = workers.back()->open(); !s.ok()) {
      logf(LogLevel::Error, "queue {}: {}", q, s.message());
      return kExitSetup;
    }
  }

  // Only after every queue is bound: a second instance (the queues are taken) must fail before
  // it replaces the running instance's table.
  ftpalg::kernel::PinholeTable table(workerSettings(cfg, cfg.queues.front()).pinhole);
  if (ftpalg::Status s = table.install(); !s.ok()) {
    logf(LogLevel::Error, "installing nftables table {}: {}", cfg.table, s.message());
    return kExitSetup;
  }

  // The nft `queue` form where the kernel has it, else the NFQUEUE target through nft_compat.
  ftpalg::kernel::QueueFormChoice form;
  if (cfg.installRules) form = ftpalg::kernel::chooseQueueForm(ftpalg::kernel::probeNftQueue());
  ftpalg::kernel::QueueRules installed(rules, form.form);
  if (cfg.installRules) {
    logf(LogLevel::Info, "queueing rules: {}", std::string_view(form.why).substr(2));
    if (ftpalg::Status s = installed.install(); !s.ok()) {
      logf(LogLevel::Error, "installing queueing rules ({}): {}", installed.describe(),
           s.message());
      workers.clear();
      (void)table.remove();
      return kExitSetup;
    }
    logf(LogLevel::Info, "installed queueing rules ({})", installed.describe());
  }

  const std::string queues = queueText(cfg.queues);
  std::vector<d::QueueWorker*> serving;
  for (auto& w : workers) serving.push_back(w.get());
  d::serveUntilSignal(
      serving, sigs,
      d::ServeTexts{fmt::format("serving queue{} {} ({}; table inet {}, mark 0x{:x})",
                                cfg.queues.size() > 1 ? "s" : "", queues,
                                cfg.failOpen ? "fail-open" : "fail-closed", cfg.table, cfg.mark),
                    fmt::format("queues {}: ready", queues),
                    [&] { return fmt::format("queues {}: {}", queues, statusLine(workers)); }},
      [&events] { events.reopen(); });
  int rc = 0;
  if (cfg.installRules) {
    if (ftpalg::Status s = installed.remove(); !s.ok()) {
      logf(LogLevel::Error, "removing queueing rules ({}): {}", installed.describe(), s.message());
      rc = kExitSetup;
    }
  }
  const std::string summary = statusLine(workers);
  workers.clear();  // unbinds the queues
  if (ftpalg::Status s = table.remove(); !s.ok()) {
    logf(LogLevel::Error, "removing nftables table {}: {}", cfg.table, s.message());
    rc = kExitSetup;
  }
  events.close();
  logf(LogLevel::Info, "stopped: {}", summary);
  return rc;
}
