#include "daemon/cthelper_mode.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

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
      "expectations removed at session end ({} removal failures), {} held, {} data-connection "
      "packets queued",
      st.packets.load(std::memory_order_relaxed), st.sessions.load(std::memory_order_relaxed),
      st.admitted.load(std::memory_order_relaxed), st.refused.load(std::memory_order_relaxed),
      st.pinholeFailures.load(std::memory_order_relaxed),
      st.expectationsRemoved.load(std::memory_order_relaxed),
      st.expectationRemoveFailures.load(std::memory_order_relaxed),
      st.held.load(std::memory_order_relaxed),
      st.nonControlExpected.load(std::memory_order_relaxed));
}

// Removes, in this order, the rules (when installed) and the helper. Unregistering the helper
// makes the kernel delete every expectation it created and detach it from every connection,
// so only setup failures and --remove-helper come here, never a plain stop or restart.
// Returns 0, or kExitSetup when a step failed (each failure is logged).
int removeAll(kernel::CtHelper& helper, const std::string& name, bool rulesInstalled) {
  int rc = 0;
  if (rulesInstalled) {
    if (Status s = kernel::removeHelperRules(); !s.ok()) {
      logf(LogLevel::Error, "removing table inet {}: {}", kernel::kHelperTable, s.message());
      rc = kExitSetup;
    }
  }
  if (Status s = helper.remove(); !s.ok()) {
    // EBUSY: an nft `ct helper` object of the admin's ruleset still names it. It stays
    // registered but disabled: its connections pass unqueued.
    const bool busy = s.err() == EBUSY && helper.setEnabled(false).ok();
    logf(LogLevel::Error, "unregistering conntrack helper {}: {}{}", name, s.message(),
         busy ? " (a ruleset still references it; left disabled)" : "");
    rc = kExitSetup;
  }
  return rc;
}

// A stop (SIGTERM/SIGINT) hands the kernel state to the next instance: the helper stays
// registered, so its expectations stay pending and every helped connection keeps it, and the
// rules stay, so new control connections get it too. The helper is only disabled: the kernel
// then passes the helped connections' packets unqueued but still through the rest of the
// conntrack confirm step (seqadj of rewritten sessions, confirmation of new connections),
// where an enabled helper without a bound queue would skip it. The successor's install()
// adopts the registration.
int handOver(kernel::CtHelper& helper, const std::string& name) {
  if (Status s = helper.setEnabled(false); !s.ok()) {
    logf(LogLevel::Error, "disabling conntrack helper {}: {}", name, s.message());
    return kExitSetup;
  }
  logf(LogLevel::Info,
       "conntrack helper {} left registered and disabled, table inet {} left in place: a "
       "restart adopts both and the pending expectations (ftpalgd --remove-helper removes them)",
       name, kernel::kHelperTable);
  return 0;
}

// Whether the kernel already has the helper (a predecessor's registration, left by a stop or a
// crash, or that of an instance in another network namespace: nfnetlink_cthelper keeps one
// list for the whole kernel, while queues are per namespace). Logged: install() then updates it in
// place (queue, policy, status), which keeps its pending expectations and its connections.
bool registered(kernel::CtHelper& helper) {
  std::vector<kernel::CtHelperInfo> all;
  if (Status s = helper.list(all); !s.ok()) return false;  // install() reports the error
  for (const kernel::CtHelperInfo& h : all) {
    if (h.name != helper.config().name) continue;
    logf(LogLevel::Info,
         "adopting the registration of conntrack helper {} (queue {}, {}, max {}, timeout {} s) "
         "and its pending expectations",
         h.name, h.queueNum,
         h.enabled ? "enabled: its predecessor did not stop cleanly, or an instance in another "
                     "network namespace serves it (registrations are global to the kernel)"
                   : "disabled",
         h.maxExpected, h.expectTimeoutS);
    return true;
  }
  return false;
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
  const bool adopted = registered(helper);
  if (Status s = helper.install(); !s.ok()) {
    logf(LogLevel::Error, "registering conntrack helper {}: {}", hc.name, s.message());
    return kExitSetup;
  }
  // A failed start after adopting a predecessor's registration leaves it (disabled) for the
  // next try: removing it would delete the expectations the predecessor created.
  const auto failSetup = [&](bool rulesInstalled) {
    if (adopted) {
      (void)handOver(helper, hc.name);
    } else {
      (void)removeAll(helper, hc.name, rulesInstalled);
    }
    return kExitSetup;
  };
  const kernel::HelperRuleSpec spec = helperRuleSpec(cfg);
  if (cfg.installRules) {
    // Replacing the table keeps every helped connection's helper: a connection points at the
    // helper itself, the table's `ct helper` object only names it for new connections.
    if (Status s = kernel::installHelperRules(spec); !s.ok()) {
      logf(LogLevel::Error, "installing table inet {}: {}", kernel::kHelperTable, s.message());
      return failSetup(false);
    }
    logf(LogLevel::Info, "installed table inet {} (ct helper {} for tcp dport {})",
         kernel::kHelperTable, kernel::kHelperObject, fmt::join(spec.ports, ","));
  }
  if (Status s = helper.setEnabled(true); !s.ok()) {
    logf(LogLevel::Error, "enabling conntrack helper {}: {}", hc.name, s.message());
    return failSetup(cfg.installRules);
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
  const int rc = handOver(helper, hc.name);
  logf(LogLevel::Info, "stopped: {}", statusLine(worker.stats()));
  return rc;
}

int removeCthelperState(const DaemonConfig& cfg, const WorkerSettings& settings) {
  kernel::CtHelper helper(helperConfig(cfg, settings));
  const int rc = removeAll(helper, std::string(kHelperName), true);
  if (rc == 0) {
    logf(LogLevel::Info, "removed table inet {} and conntrack helper {} (and its expectations)",
         kernel::kHelperTable, kHelperName);
  }
  return rc;
}

int disableCthelper(const DaemonConfig& cfg, const WorkerSettings& settings) {
  // Also run after pinhole mode and on kernels without nfnetlink_cthelper: nothing to disable
  // is success.
  kernel::CtHelper helper(helperConfig(cfg, settings));
  std::vector<kernel::CtHelperInfo> all;
  if (Status s = helper.list(all); !s.ok()) {
    logf(LogLevel::Info, "no conntrack helper to disable: {}", s.message());
    return 0;
  }
  const auto it = std::find_if(all.begin(), all.end(), [](const kernel::CtHelperInfo& h) {
    return h.name == kHelperName && h.enabled;
  });
  if (it == all.end()) return 0;
  if (Status s = helper.setEnabled(false); !s.ok()) {
    logf(LogLevel::Error, "disabling conntrack helper {}: {}", kHelperName, s.message());
    return kExitSetup;
  }
  logf(LogLevel::Info,
       "disabled conntrack helper {} left enabled by a stopped or crashed ftpalgd: its "
       "connections pass unqueued (fail-open) until the next start",
       kHelperName);
  return 0;
}

}  // namespace ftpalg::daemon
