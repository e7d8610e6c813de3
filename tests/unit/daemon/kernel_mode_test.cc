// applyKernelDefects: a cthelper choice names the kernel; on a kernel with a known
// expectation-mode defect `auto` takes pinhole mode and an explicit `cthelper` keeps it, both
// with the defect to log at start.
#include "daemon/kernel_mode.h"

#include <gtest/gtest.h>

namespace ftpalg::test {
namespace {

using daemon::KernelMode;
using daemon::KernelModeChoice;

const daemon::KernelId k47{"6.1.0-47-amd64",
                           "#1 SMP PREEMPT_DYNAMIC Debian 6.1.170-3 (2026-05-08)"};
const daemon::KernelId k57{"6.1.0-57-amd64",
                           "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-02)"};

KernelModeChoice cthelper(const char* why) { return {KernelMode::Cthelper, true, why, {}}; }

TEST(KernelMode, AutoOnAKernelWithoutDefectKeepsCthelperAndNamesTheKernel) {
  const KernelModeChoice c =
      daemon::applyKernelDefects(cthelper("cthelper (auto): x"), KernelMode::Auto, k57);
  EXPECT_EQ(c.mode, KernelMode::Cthelper);
  EXPECT_EQ(c.why, "cthelper (auto): x on 6.1.0-57-amd64 (upstream 6.1.192)");
  EXPECT_TRUE(c.defect.empty());
}

TEST(KernelMode, AutoOnAKernelWithADefectTakesPinholeAndSaysWhy) {
  const KernelModeChoice c =
      daemon::applyKernelDefects(cthelper("cthelper (auto): x"), KernelMode::Auto, k47);
  EXPECT_TRUE(c.ok);
  EXPECT_EQ(c.mode, KernelMode::Pinhole);
  EXPECT_NE(c.why.find("pinhole (auto): nfnetlink_cthelper answers on 6.1.0-47-amd64 (upstream "
                       "6.1.170), but expectation mode has a known defect"),
            std::string::npos);
  EXPECT_EQ(c.defect.rfind("kernel 6.1.170: ", 0), 0U);
}

TEST(KernelMode, ExplicitCthelperOnAKernelWithADefectRunsAndWarns) {
  const KernelModeChoice c =
      daemon::applyKernelDefects(cthelper("cthelper (requested)"), KernelMode::Cthelper, k47);
  EXPECT_EQ(c.mode, KernelMode::Cthelper);
  EXPECT_FALSE(c.defect.empty());
}

TEST(KernelMode, PinholeAndFailedChoicesAreLeftAlone) {
  const KernelModeChoice p{KernelMode::Pinhole, true, "pinhole (requested)", {}};
  EXPECT_EQ(daemon::applyKernelDefects(p, KernelMode::Pinhole, k47).why, "pinhole (requested)");
  const KernelModeChoice f{KernelMode::Cthelper, false, "cthelper mode needs", {}};
  const KernelModeChoice r = daemon::applyKernelDefects(f, KernelMode::Cthelper, k47);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.defect.empty());
}

}  // namespace
}  // namespace ftpalg::test
