#include "daemon/worker_settings.h"

#include <sys/stat.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/engine_limits.h"
#include "daemon/policy_keys.h"

namespace ftpalg::daemon {

WorkerSettings workerSettings(const DaemonConfig& cfg, uint16_t queue) {
  WorkerSettings s;
  s.queue.queueNum = queue;
  s.queue.maxLen = cfg.queueMaxLen;
  s.queue.failOpen = cfg.failOpen;
  s.engine.allowBounce = cfg.allowBounce;
  s.engine.allowLowPorts = cfg.allowLowPorts;
  s.engine.allowLongForms = cfg.allowLongForms;
  s.engine.pasvAddressMismatch = cfg.pasvAddressMismatch;
  s.engine.overrides = engineOverrides(cfg);
  s.engine.expectTimeoutNs = uint64_t{cfg.pinholeTimeoutS} * 1'000'000'000u;
  s.engine.ackSpace = ftpalg::core::AckSpace::Rewritten;
  applyEngineLimits(cfg, s.engine);
  // Slipstreaming guard: announcements act only in greeted, logged-in FTP sessions.
  s.engine.requireLogin = true;
  // A refused PORT or an ended session takes back its pinhole and NAT elements at once.
  s.engine.withdrawAnnouncements = true;
  // The gateway's own addresses are special addresses (refused whatever --allow-bounce).
  s.watchLocalAddresses = true;
  for (size_t i = 0; i < cfg.ports.size() && i + 1 < s.engine.controlPorts.size(); ++i) {
    s.engine.controlPorts[i + 1] = cfg.ports[i];
  }
  s.pinhole.table = cfg.table.empty() ? defaults::tableName(cfg.queues.front()) : cfg.table;
  s.pinhole.ctMark = cfg.mark;
  s.pinhole.timeoutMs = cfg.pinholeTimeoutS * 1000;
  if (!cfg.stateDir.empty()) s.stateDir = stateDirOf(cfg.stateDir, netnsId(), queue);
  s.sessionMark = cfg.sessionMark;
  s.stateLabels = cfg.conntrackState;
  s.stateLabelBit = cfg.conntrackStateBit;
  s.pinhole.ctLabels = cfg.conntrackState;
  applyWithdrawEnvironment(s);
  return s;
}

void applyWithdrawEnvironment(WorkerSettings& s) {
  const auto is = [](const char* name, std::string_view value) {
    const char* v = std::getenv(name);
    return v != nullptr && value == v;
  };
  if (is("FTPALGD_WITHDRAW", "sync")) s.withdrawQueue = 0;
  if (is("FTPALGD_WITHDRAW", "batch")) s.withdrawAfterBatch = true;
  if (is("FTPALGD_NFT_DESTROY", "off")) s.pinhole.destroyElements = false;
}

uint64_t netnsId() {
  struct stat st {};
  if (::stat("/proc/self/ns/net", &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

std::string stateDirOf(const std::string& root, uint64_t netns, uint16_t queue) {
  return root + "/net-" + std::to_string(netns) + "/queue-" + std::to_string(queue);
}

}  // namespace ftpalg::daemon
