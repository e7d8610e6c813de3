#include "daemon/pinhole_mode.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/log.h"
#include "daemon/queue_worker.h"
#include "daemon/reload.h"
#include "daemon/serve_loop.h"
#include "daemon/worker_settings.h"
#include "ftpalg/kernel/nft_queue_probe.h"
#include "ftpalg/kernel/queue_rules.h"
#include "ftpalg/kernel/queue_rules_text.h"

namespace ftpalg::daemon {
namespace {

constexpr int kExitSetup = 1;

std::string queueText(const std::vector<uint16_t>& q) {
  if (q.size() > 1 && q.back() - q.front() + 1 == static_cast<int>(q.size())) {
    return fmt::format("{}-{}", q.front(), q.back());
  }
  return fmt::format("{}", fmt::join(q, ","));
}

std::string statusLine(const std::vector<std::unique_ptr<QueueWorker>>& workers) {
  uint64_t packets = 0, admitted = 0, refused = 0, failures = 0, sessions = 0, held = 0, limits = 0;
  for (const auto& w : workers) {
    const auto& st = w->stats();
    packets += st.packets.load(std::memory_order_relaxed);
    admitted += st.admitted.load(std::memory_order_relaxed);
    refused += st.refused.load(std::memory_order_relaxed);
    failures += st.pinholeFailures.load(std::memory_order_relaxed);
    sessions += st.sessions.load(std::memory_order_relaxed);
    held += st.held.load(std::memory_order_relaxed);
    limits += st.limitsHit.load(std::memory_order_relaxed);
  }
  return fmt::format(
      "{} packets, {} sessions, {} admitted, {} refused, {} pinhole failures, {} held, {} limits "
      "hit",
      packets, sessions, admitted, refused, failures, held, limits);
}

}  // namespace

int runPinholeMode(const DaemonConfig& cfg, const RuleSpec& rules, EventSink& events,
                   const sigset_t& sigs) {
  std::vector<std::unique_ptr<QueueWorker>> workers;
  for (uint16_t q : cfg.queues) {
    workers.push_back(std::make_unique<QueueWorker>(workerSettings(cfg, q), events));
    if (Status s = workers.back()->open(); !s.ok()) {
      logf(LogLevel::Error, "queue {}: {}", q, s.message());
      return kExitSetup;
    }
  }

  // Only after every queue is bound: a second instance (the queues are taken) must fail before
  // it replaces the running instance's table.
  kernel::PinholeTable table(workerSettings(cfg, cfg.queues.front()).pinhole);
  if (Status s = table.install(); !s.ok()) {
    logf(LogLevel::Error, "installing nftables table {}: {}", cfg.table, s.message());
    return kExitSetup;
  }

  // The nft `queue` form where the kernel has it, else the NFQUEUE target through nft_compat.
  kernel::QueueFormChoice form;
  if (cfg.installRules) form = kernel::chooseQueueForm(kernel::probeNftQueue());
  kernel::QueueRules installed(rules, form.form);
  if (cfg.installRules) {
    logf(LogLevel::Info, "queueing rules: {}", std::string_view(form.why).substr(2));
    if (Status s = installed.install(); !s.ok()) {
      logf(LogLevel::Error, "installing queueing rules ({}): {}", installed.describe(),
           s.message());
      workers.clear();
      (void)table.remove();
      return kExitSetup;
    }
    logf(LogLevel::Info, "installed queueing rules ({})", installed.describe());
  }

  const std::string queues = queueText(cfg.queues);
  std::vector<QueueWorker*> serving;
  for (auto& w : workers) serving.push_back(w.get());
  Reloader reloader(rememberedCommandLine(), cfg,
                    [&serving](const DaemonConfig& next) { applyReloaded(next, serving); });
  serveUntilSignal(
      serving, sigs,
      ServeTexts{fmt::format("serving queue{} {} ({}; table inet {}, mark 0x{:x})",
                             cfg.queues.size() > 1 ? "s" : "", queues,
                             cfg.failOpen ? "fail-open" : "fail-closed", cfg.table, cfg.mark),
                 fmt::format("queues {}: ready", queues),
                 [&] { return fmt::format("queues {}: {}", queues, statusLine(workers)); }},
      [&events, &reloader] {
        events.reopen();
        (void)reloader.reload();
      });
  int rc = 0;
  if (cfg.installRules) {
    if (Status s = installed.remove(); !s.ok()) {
      logf(LogLevel::Error, "removing queueing rules ({}): {}", installed.describe(), s.message());
      rc = kExitSetup;
    }
  }
  const std::string summary = statusLine(workers);
  workers.clear();  // unbinds the queues
  if (Status s = table.remove(); !s.ok()) {
    logf(LogLevel::Error, "removing nftables table {}: {}", cfg.table, s.message());
    rc = kExitSetup;
  }
  events.close();
  logf(LogLevel::Info, "stopped: {}", summary);
  return rc;
}

}  // namespace ftpalg::daemon
