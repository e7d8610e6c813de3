// `ftpalg takeover`: asks ftpalgd's control socket to re-create the pinholes of announcements
// recorded in conntrack labels (conntrack_state = "labels"; docs/daemon.md, "Conntrack state
// labels"), e.g. from a keepalived notify script after `conntrackd -c`; prints the daemon's
// JSON answer. Part of ftpalg_status (the same socket client).
#pragma once

#include <cstdint>
#include <string>

#include "ftpalg/defaults.h"

namespace ftpalg::cli {

// What the user asked `ftpalg takeover` for.
struct TakeoverOptions {
  std::string socket{defaults::kControlSocket};
  uint32_t timeoutMs = 10000;
};

// Exit status 0 when the daemon ran the takeover (its answer on stdout), 2 otherwise.
int runTakeover(const TakeoverOptions& options);

}  // namespace ftpalg::cli
