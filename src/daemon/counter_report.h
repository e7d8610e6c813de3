// Every engine counter at once, for the daemon's last log line: the resource-limit warnings
// and STATUS= show a few sums, this shows each named counter (docs/design.md, "Threat model"
// names the counter of each attack), so a test or an admin can read them after a run.
#pragma once

#include <span>
#include <string>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// "name=N, name=N, ..." over every counter that is not zero, summed over `engines`, in the
// order of core::Counter; "none" when all are zero. Read only while no worker thread runs.
std::string counterSummary(std::span<const core::Engine* const> engines);

}  // namespace ftpalg::daemon
