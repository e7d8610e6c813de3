// Which kernel mechanism admits data connections: ftpalg's own nftables pinholes, or conntrack
// expectations with ftpalgd registered as a userspace conntrack helper (nfnetlink_cthelper).
// `auto` probes for nfnetlink_cthelper and says in one line what it picked and why.
#pragma once

#include <string>

#include "daemon/config.h"

namespace ftpalg::daemon {

struct KernelModeChoice {
  KernelMode mode = KernelMode::Pinhole;  // Pinhole or Cthelper, never Auto
  bool ok = true;   // false: the requested mode cannot run on this kernel (`why` says why)
  std::string why;  // one line for the log
};

// Resolves `requested` on the running kernel.
KernelModeChoice chooseKernelMode(KernelMode requested);

}  // namespace ftpalg::daemon
