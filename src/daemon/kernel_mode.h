// Which kernel mechanism admits data connections: ftpalg's own nftables pinholes, or conntrack
// expectations with ftpalgd registered as a userspace conntrack helper (nfnetlink_cthelper).
// `auto` probes for nfnetlink_cthelper and says in one line what it picked and why.
#pragma once

#include <string>

#include "daemon/config.h"
#include "daemon/kernel_defects.h"

namespace ftpalg::daemon {

struct KernelModeChoice {
  KernelMode mode = KernelMode::Pinhole;  // Pinhole or Cthelper, never Auto
  bool ok = true;   // false: the requested mode cannot run on this kernel (`why` says why)
  std::string why;  // one line for the log
  // Cthelper: the running kernel's known expectation-mode defect and how ftpalgd handles it
  // (kernel_defects.h); empty when none is known. Logged as a warning at start.
  std::string defect;
};

// Resolves `requested` on the running kernel (names it in `why`, fills `defect`).
KernelModeChoice chooseKernelMode(KernelMode requested);
// The choice alone: the probe of nfnetlink_cthelper, no kernel version.
KernelModeChoice chooseOnKernel(KernelMode requested);
// A cthelper choice `c` on kernel `k`: names the kernel in `why` and fills `defect` from the
// known defects (kernel_defects.h); `auto` then takes pinhole mode instead. Pure.
KernelModeChoice applyKernelDefects(KernelModeChoice c, KernelMode requested, const KernelId& k);

}  // namespace ftpalg::daemon
