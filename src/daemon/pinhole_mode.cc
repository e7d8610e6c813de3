#include "daemon/pinhole_mode.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <string>
#include <vector>

#include "daemon/counter_report.h"
#include "daemon/ct_state_takeover.h"
#include "daemon/log.h"
#include "daemon/queue_worker.h"
#include "daemon/reload.h"
#include "daemon/serve_loop.h"
#include "daemon/table_keeper.h"
#include "daemon/worker_settings.h"
#include "ftpalg/kernel/nft_queue_probe.h"
#include "ftpalg/kernel/pinhole_keeper.h"
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

// Adopts the table a predecessor left (its elements keep their remaining timeouts), repairs a
// damaged one, rebuilds one of another layout keeping its elements, or creates it.
Status adoptPinholeTable(const DaemonConfig& cfg, const kernel::PinholeConfig& pinhole) {
  kernel::PinholeKeeper keeper(pinhole);
  kernel::EnsureResult r;
  if (Status s = keeper.ensure(r); !s.ok()) return s;
  switch (r.before.state) {
    case kernel::TableState::Missing:
      logf(LogLevel::Info, "created table inet {} ({} ms)", cfg.table, r.elapsedMs);
      break;
    case kernel::TableState::Intact:
    case kernel::TableState::Damaged:
      logf(LogLevel::Info, "adopted table inet {}{}: {} pinholes pending ({} ms)", cfg.table,
           r.before.state == kernel::TableState::Damaged ? " (repaired: " + r.before.why + ")"
                                                         : std::string(),
           r.pending, r.elapsedMs);
      break;
    case kernel::TableState::OtherLayout:
      logf(LogLevel::Warning,
           "rebuilt table inet {}: another layout ({}); {} pinholes kept, {} elements lost ({} ms)",
           cfg.table, r.before.why, r.pending, r.lost, r.elapsedMs);
      break;
  }
  return {};
}

// At exit the table stays: its pinholes expire on their own timeouts, and a successor (a
// restart, an upgrade) adopts the ones still pending. `ftpalgd --remove-table` deletes it.
void leavePinholeTable(const DaemonConfig& cfg) {
  logf(LogLevel::Info,
       "leaving table inet {} to a successor (pending pinholes expire within {} s; "
       "ftpalgd --remove-table deletes it)",
       cfg.table, cfg.pinholeTimeoutS);
}

}  // namespace

Status removePinholeTable(const DaemonConfig& cfg) {
  kernel::PinholeKeeper keeper(workerSettings(cfg, cfg.queues.front()).pinhole);
  return keeper.remove();
}

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
  const kernel::PinholeConfig pinhole = workerSettings(cfg, cfg.queues.front()).pinhole;
  if (Status s = adoptPinholeTable(cfg, pinhole); !s.ok()) {
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
      return kExitSetup;
    }
    logf(LogLevel::Info, "installed queueing rules ({})", installed.describe());
  }
  // conntrack_state: pinholes of announcements other daemons recorded in conntrack labels.
  std::unique_ptr<CtStateTakeover> takeover = startTakeover(cfg, pinhole, events);
  TableKeeper keeper(pinhole, cfg.installRules ? &installed : nullptr);
  if (Status s = keeper.open(); !s.ok()) {
    logf(LogLevel::Error, "watching the nftables objects: {}", s.message());
    return kExitSetup;
  }
  keeper.start();

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
                 [&] {
                   return fmt::format("queues {}: {}, {} kernel object restores", queues,
                                      statusLine(workers), keeper.incidents());
                 }},
      [&events, &reloader] {
        events.reopen();
        (void)reloader.reload();
      });
  registerTakeover(nullptr);
  keeper.stop();  // before the queueing rules go: it would restore them
  int rc = 0;
  if (cfg.installRules) {
    if (Status s = installed.remove(); !s.ok()) {
      logf(LogLevel::Error, "removing queueing rules ({}): {}", installed.describe(), s.message());
      rc = kExitSetup;
    }
  }
  const std::string summary = statusLine(workers);
  std::vector<const core::Engine*> engines;
  for (const auto& w : workers) engines.push_back(&w->engine());
  const std::string counters = counterSummary(engines);
  workers.clear();  // unbinds the queues
  leavePinholeTable(cfg);
  events.close();
  logf(LogLevel::Info, "counters: {}", counters);
  logf(LogLevel::Info, "stopped: {}", summary);
  return rc;
}

}  // namespace ftpalg::daemon
