#include "daemon/cthelper_mode.h"

#include <algorithm>
#include <cerrno>
#include <string>

#include "daemon/log.h"
#include "daemon/reload.h"
#include "daemon/serve_loop.h"
#include "ftpalg/defaults.h"
#include "ftpalg/kernel/cthelper.h"

namespace ftpalg::daemon {
namespace {

constexpr int kExitSetup = 1;
constexpr std::string_view kHelperName = defaults::kHelperName;

std::string statusLine(const WorkerStats& st) {
  return fmt::format(
      "{} packets, {} sessions, {} admitted, {} refused, {} expectation failures, {} "
      "expectations removed at session end ({} removal failures), {} held",
      st.packets.load(std::memory_order_relaxed), st.sessions.load(std::memory_order_relaxed),
      st.admitted.load(std::memory_order_relaxed), st.refused.load(std::memory_order_relaxed),
      st.pinholeFailures.load(std::memory_order_relaxed),
      st.expectationsRemoved.load(std::memory_order_relaxed),
      st.expectationRemoveFailures.load(std::memory_order_relaxed),
      st.held.load(std::memory_order_relaxed));
}

// Removes, in this order, the rules (when installed), the helper's queueing and the helper.
// Returns 0, or kExitSetup when a step failed (each failure is logged).
int teardown(kernel::CtHelper& helper, const std::string& name, bool rulesInstalled) {
  int rc = 0;
  if (rulesInstalled) {
    if (Status s = kernel::removeHelperRules(); !s.ok()) {
      logf(LogLevel::Error, "removing table inet {}: {}", kernel::kHelperTable, s.message());
      rc = kExitSetup;
    }
  }
  if (Status s = helper.setEnabled(false); !s.ok()) {
    logf(LogLevel::Error, "disabling conntrack helper {}: {}", name, s.message());
    rc = kExitSetup;
  }
  if (Status s = helper.remove(); !s.ok()) {
    // EBUSY: an nft `ct helper` object of the admin's ruleset still names it. It stays
    // registered but disabled: its connections pass unqueued.
    logf(LogLevel::Error, "unregistering conntrack helper {}: {}{}", name, s.message(),
         s.err() == EBUSY ? " (a ruleset still references it; left disabled)" : "");
    rc = kExitSetup;
  }
  return rc;
}

kernel::CtHelperConfig helperConfig(const DaemonConfig& cfg, const WorkerSettings& settings) {
  kernel::CtHelperConfig hc;
  hc.name = kHelperName;
  hc.queueNum = settings.queue.queueNum;
  hc.maxExpected = static_cast<uint32_t>(settings.engine.maxExpectationsPerSession);
  hc.expectTimeoutS = cfg.pinholeTimeoutS;
  return hc;
}

}  // namespace

kernel::HelperRuleSpec helperRuleSpec(const DaemonConfig& cfg) {
  kernel::HelperRuleSpec spec;
  spec.helper = kHelperName;
  for (uint16_t p : cfg.ports) {
    if (std::find(spec.ports.begin(), spec.ports.end(), p) == spec.ports.end()) {
      spec.ports.push_back(p);
    }
  }
  return spec;
}

int runCthelperMode(const DaemonConfig& cfg, WorkerSettings settings, EventSink& events,
                    const sigset_t& sigs) {
  settings.expectationMode = true;
  settings.queue.conntrack = true;
  settings.engine.kernelSeqAdjust = true;
  const uint16_t queue = settings.queue.queueNum;

  // The queue first: a second instance (the queue is taken) fails before it touches the
  // running instance's helper.
  QueueWorker worker(settings, events);
  if (Status s = worker.open(); !s.ok()) {
    logf(LogLevel::Error, "queue {}: {}", queue, s.message());
    return kExitSetup;
  }

  const kernel::CtHelperConfig hc = helperConfig(cfg, settings);
  kernel::CtHelper helper(hc);
  if (Status s = helper.install(); !s.ok()) {
    logf(LogLevel::Error, "registering conntrack helper {}: {}", hc.name, s.message());
    return kExitSetup;
  }
  const kernel::HelperRuleSpec spec = helperRuleSpec(cfg);
  if (cfg.installRules) {
    if (Status s = kernel::installHelperRules(spec); !s.ok()) {
      logf(LogLevel::Error, "installing table inet {}: {}", kernel::kHelperTable, s.message());
      (void)teardown(helper, hc.name, false);
      return kExitSetup;
    }
    logf(LogLevel::Info, "installed table inet {} (ct helper {} for tcp dport {})",
         kernel::kHelperTable, kernel::kHelperObject, fmt::join(spec.ports, ","));
  }
  if (Status s = helper.setEnabled(true); !s.ok()) {
    logf(LogLevel::Error, "enabling conntrack helper {}: {}", hc.name, s.message());
    (void)teardown(helper, hc.name, cfg.installRules);
    return kExitSetup;
  }

  Reloader reloader(rememberedCommandLine(), cfg,
                    [&worker](const DaemonConfig& next) { applyReloaded(next, {&worker}); });
  serveUntilSignal(
      {&worker}, sigs,
      ServeTexts{fmt::format("serving queue {} as conntrack helper {} (max {} expectations per "
                             "session, timeout {} s; {})",
                             queue, hc.name, hc.maxExpected, hc.expectTimeoutS,
                             cfg.failOpen ? "fail-open" : "fail-closed"),
                 fmt::format("queue {}: ready (cthelper)", queue),
                 [&] { return fmt::format("queue {}: {}", queue, statusLine(worker.stats())); }},
      [&events, &reloader] {
        events.reopen();
        (void)reloader.reload();
      });
  const int rc = teardown(helper, hc.name, cfg.installRules);
  logf(LogLevel::Info, "stopped: {}", statusLine(worker.stats()));
  return rc;
}

}  // namespace ftpalg::daemon
