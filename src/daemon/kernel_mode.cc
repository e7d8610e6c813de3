#include "daemon/kernel_mode.h"

#include "ftpalg/kernel/cthelper.h"

namespace ftpalg::daemon {

KernelModeChoice chooseKernelMode(KernelMode requested) {
  if (requested == KernelMode::Pinhole) {
    return {KernelMode::Pinhole, true, "pinhole (requested)"};
  }
  const Status probe = kernel::CtHelper::probe();
  if (requested == KernelMode::Cthelper) {
    if (probe.ok()) return {KernelMode::Cthelper, true, "cthelper (requested)"};
    return {KernelMode::Cthelper, false,
            "cthelper mode needs nfnetlink_cthelper and CAP_NET_ADMIN: " + probe.message() +
                " (use --kernel-mode pinhole or auto)"};
  }
  if (!probe.ok()) {
    return {KernelMode::Pinhole, true,
            "pinhole (auto): nfnetlink_cthelper is not available (" + probe.message() + ")"};
  }
  return {KernelMode::Cthelper, true,
          "cthelper (auto): nfnetlink_cthelper answers; data connections become conntrack "
          "expectations"};
}

}  // namespace ftpalg::daemon
