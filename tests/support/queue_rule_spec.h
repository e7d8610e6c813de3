// Test support: a QueueRuleSpec in one call, for the tests of the queueing rules' text and of
// their nf_tables messages.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "ftpalg/kernel/queue_rules_text.h"

namespace ftpalg::test {

// Queues first..first+count-1 for the control ports `ports`; fail-open when `bypass`.
inline kernel::QueueRuleSpec queueRuleSpec(uint16_t first, uint16_t count,
                                           std::vector<uint16_t> ports, bool bypass) {
  kernel::QueueRuleSpec s;
  s.firstQueue = first;
  s.queueCount = count;
  s.ports = std::move(ports);
  s.bypass = bypass;
  return s;
}

}  // namespace ftpalg::test
