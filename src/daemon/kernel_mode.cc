#include "daemon/kernel_mode.h"

#include "daemon/kernel_defects.h"
#include "ftpalg/kernel/cthelper.h"

namespace ftpalg::daemon {

namespace {

// " on <release> (upstream <version>)": which kernel the choice was made on.
std::string kernelText(const KernelId& k) {
  const std::string up = upstreamVersion(k);
  return " on " + k.release + (up.empty() ? std::string() : " (upstream " + up + ")");
}

}  // namespace

KernelModeChoice chooseKernelMode(KernelMode requested) {
  return applyKernelDefects(chooseOnKernel(requested), requested, runningKernel());
}

KernelModeChoice applyKernelDefects(KernelModeChoice c, KernelMode requested, const KernelId& k) {
  if (!c.ok || c.mode != KernelMode::Cthelper) return c;
  c.why += kernelText(k);
  const std::string up = upstreamVersion(k);
  const std::string defect = expectationModeDefect(up);
  if (defect.empty()) return c;
  c.defect = "kernel " + up + ": " + defect;
  if (requested != KernelMode::Auto) return c;
  // Expectation mode works there, but queues every data packet: pinhole mode queues only the
  // control connections.
  return {KernelMode::Pinhole, true,
          "pinhole (auto): nfnetlink_cthelper answers" + kernelText(k) +
              ", but expectation mode has a known defect there (next line)",
          c.defect};
}

KernelModeChoice chooseOnKernel(KernelMode requested) {
  if (requested == KernelMode::Pinhole) {
    return {KernelMode::Pinhole, true, "pinhole (requested)", {}};
  }
  const Status probe = kernel::CtHelper::probe();
  if (requested == KernelMode::Cthelper) {
    if (probe.ok()) return {KernelMode::Cthelper, true, "cthelper (requested)", {}};
    return {KernelMode::Cthelper,
            false,
            "cthelper mode needs nfnetlink_cthelper and CAP_NET_ADMIN: " + probe.message() +
                " (use --kernel-mode pinhole or auto)",
            {}};
  }
  if (!probe.ok()) {
    return {KernelMode::Pinhole,
            true,
            "pinhole (auto): nfnetlink_cthelper is not available (" + probe.message() + ")",
            {}};
  }
  return {KernelMode::Cthelper,
          true,
          "cthelper (auto): nfnetlink_cthelper answers; data connections become conntrack "
          "expectations",
          {}};
}

}  // namespace ftpalg::daemon
