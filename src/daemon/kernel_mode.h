// Which kernel mechanism admits data connections. Only pinhole mode (ftpalg's nftables table)
// exists today; `auto` probes for nfnetlink_cthelper and says why it picks pinhole.
#pragma once

#include <string>

#include "daemon/config.h"

namespace ftpalg::daemon {

struct KernelModeChoice {
  KernelMode mode = KernelMode::Pinhole;
  std::string why;  // one line for the log
};

// Resolves `requested` (auto or pinhole) on the running kernel.
KernelModeChoice chooseKernelMode(KernelMode requested);

}  // namespace ftpalg::daemon
