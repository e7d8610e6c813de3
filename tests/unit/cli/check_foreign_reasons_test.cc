// The refusal reasons `ftpalg check` takes for a server announcing a foreign address, alone
// and through the server_foreign_address diagnosis: exactly bounce_address, special_address
// and pasv_address_mismatch of a passive reply; no other reason, whatever its name
// (family_mismatch and retransmit_mismatch end in "mismatch" too).
#include "cli/check_foreign_reasons.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "cli/check_diagnose.h"

namespace ftpalg::test {
namespace {

using core::Reason;

// The findings of diagnoseForeignAddress for one refusal of a 227 with `reason`.
cli::Findings findingsFor(std::string reason, std::string kind = "pasv227",
                          std::string dir = "s2c") {
  cli::GatewayFacts f;
  f.events.path = "/var/log/ftpalg/events.jsonl";
  f.events.readable = true;
  f.events.refusals = {{"198.18.1.2:40000-198.19.1.2:21", std::move(dir), std::move(kind),
                        std::move(reason), "198.19.2.3:40001"}};
  cli::Findings out;
  cli::diagnoseForeignAddress(f, out);
  return out;
}

bool foreign(const cli::Findings& fs) {
  return fs.size() == 1 && fs[0].id == "server_foreign_address";
}

TEST(CheckForeignReasons, TheListIsExactlyTheAddressReasons) {
  const auto list = cli::foreignAddressReasons();
  ASSERT_EQ(list.size(), 3u);
  for (Reason r : {Reason::BounceAddress, Reason::SpecialAddress, Reason::PasvAddressMismatch}) {
    EXPECT_NE(std::find(list.begin(), list.end(), r), list.end()) << core::reasonName(r);
    EXPECT_TRUE(cli::isForeignAddressReason(core::reasonName(r))) << core::reasonName(r);
  }
}

TEST(CheckForeignReasons, EveryReasonByName) {
  for (size_t i = 0; i < static_cast<size_t>(Reason::Count); ++i) {
    const auto r = static_cast<Reason>(i);
    const bool want = r == Reason::BounceAddress || r == Reason::SpecialAddress ||
                      r == Reason::PasvAddressMismatch;
    const std::string name(core::reasonName(r));
    const cli::Findings fs = findingsFor(name);
    EXPECT_EQ(foreign(fs), want) << name;
    EXPECT_EQ(cli::isForeignAddressReason(name), want) << name;
    if (!want) {
      EXPECT_TRUE(fs.empty()) << name;
    }
  }
}

TEST(CheckForeignReasons, RetransmitAndFamilyMismatchAreNotForeign) {
  EXPECT_TRUE(findingsFor("retransmit_mismatch").empty());
  EXPECT_TRUE(findingsFor("family_mismatch", "epsv229").empty());
}

TEST(CheckForeignReasons, AnUnknownReasonIsNotForeign) {
  // A reason this build does not know (a newer daemon's), even one that looks like an address
  // mismatch, is not taken for one.
  EXPECT_TRUE(findingsFor("peer_address_mismatch").empty());
  EXPECT_TRUE(findingsFor("").empty());
}

TEST(CheckForeignReasons, OnlyPassiveRepliesFromTheServer) {
  for (const char* kind : {"pasv227", "epsv229", "lpsv228"}) {
    EXPECT_TRUE(foreign(findingsFor("pasv_address_mismatch", kind))) << kind;
  }
  EXPECT_TRUE(findingsFor("bounce_address", "port", "c2s").empty());
  EXPECT_TRUE(findingsFor("bounce_address", "pasv227", "c2s").empty());
}

}  // namespace
}  // namespace ftpalg::test
