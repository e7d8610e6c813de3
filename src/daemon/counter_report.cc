#include "daemon/counter_report.h"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>

namespace ftpalg::daemon {

std::string counterSummary(std::span<const core::Engine* const> engines) {
  std::string out;
  for (size_t i = 0; i < static_cast<size_t>(core::Counter::Count); ++i) {
    const auto c = static_cast<core::Counter>(i);
    uint64_t sum = 0;
    for (const core::Engine* e : engines) sum += e->counter(c);
    if (sum == 0) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{}={}", core::counterName(c), sum);
  }
  return out.empty() ? std::string("none") : out;
}

}  // namespace ftpalg::daemon
