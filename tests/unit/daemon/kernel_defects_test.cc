// Known expectation-mode kernel defects: the upstream version from Debian's uname, and the one
// measured defect (6.1.170's expected connections inheriting the master's helper).
#include "daemon/kernel_defects.h"

#include <gtest/gtest.h>

namespace ftpalg::test {
namespace {

using daemon::KernelId;

TEST(KernelDefects, UpstreamVersionFromDebianUnameVersion) {
  EXPECT_EQ(daemon::upstreamVersion(
                KernelId{"6.1.0-47-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.170-3 (2026-05-08)"}),
            "6.1.170");
  EXPECT_EQ(daemon::upstreamVersion(KernelId{"6.12.117+deb12-amd64",
                                             "#1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1~deb12u1"}),
            "6.12.117");
}

TEST(KernelDefects, UpstreamVersionFromReleaseOtherwise) {
  EXPECT_EQ(daemon::upstreamVersion(KernelId{"6.18.3-arch1", "#1 SMP PREEMPT"}), "6.18.3");
  EXPECT_EQ(daemon::upstreamVersion(KernelId{"6.8.0-45-generic", "#45-Ubuntu SMP"}), "6.8.0");
  EXPECT_EQ(daemon::upstreamVersion(KernelId{"weird", ""}), "");
}

TEST(KernelDefects, MeasuredDefectOnly) {
  EXPECT_NE(daemon::expectationModeDefect("6.1.170").find("inherit"), std::string::npos);
  EXPECT_EQ(daemon::expectationModeDefect("6.1.192"), "");
  EXPECT_EQ(daemon::expectationModeDefect("6.12.117"), "");
  EXPECT_EQ(daemon::expectationModeDefect(""), "");
}

}  // namespace
}  // namespace ftpalg::test
