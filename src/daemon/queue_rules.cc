#include "daemon/queue_rules.h"

#include <algorithm>

namespace ftpalg::daemon {

RuleSpec ruleSpec(const DaemonConfig& cfg) {
  RuleSpec s;
  s.firstQueue = cfg.queues.front();
  s.queueCount = static_cast<uint16_t>(cfg.queues.size());
  for (uint16_t p : cfg.ports) {
    if (std::find(s.ports.begin(), s.ports.end(), p) == s.ports.end()) s.ports.push_back(p);
  }
  s.bypass = cfg.failOpen;
  s.sessionMark = cfg.sessionMark;
  s.ackBypass = !cfg.queueEverything;
  s.spreadConnections = cfg.spreadConnections;
  return s;
}

}  // namespace ftpalg::daemon
