// Known defects of running kernels in expectation mode, by upstream version: what `--kernel-mode
// auto` and `cthelper` say at start. Only measured facts (docs/daemon.md, "Kernels").
#pragma once

#include <string>
#include <string_view>

namespace ftpalg::daemon {

// The running kernel: uname's release ("6.1.0-47-amd64") and version ("#1 SMP ... Debian
// 6.1.170-3 (2026-05-08)").
struct KernelId {
  std::string release;
  std::string version;
};
KernelId runningKernel();

// The upstream version ("6.1.170"): from "Debian X.Y.Z-..." in `version` when present (Debian's
// release names only the ABI), else the leading X.Y[.Z] of `release`. Empty when neither has one.
std::string upstreamVersion(const KernelId& k);

// A one-line note on the known expectation-mode defect of upstream version `v` and how ftpalgd
// handles it; empty for a kernel without a known defect.
std::string expectationModeDefect(std::string_view v);

}  // namespace ftpalg::daemon
