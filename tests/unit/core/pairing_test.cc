// PairingRing: commands answered in order, ring overflow makes pairing unknown once, a passive
// reply re-learns it.
#include "src/core/pairing.h"

#include <gtest/gtest.h>

namespace ftpalg::test {
namespace {

using core::PairingRing;
using core::Pending;

TEST(PairingRing, GreetingFirstThenCommandsInOrder) {
  PairingRing r;
  r.startAtGreeting();
  EXPECT_EQ(r.front(), Pending::Greeting);
  EXPECT_FALSE(r.push(Pending::Other));
  EXPECT_FALSE(r.push(Pending::Pasv));
  r.pop();
  EXPECT_EQ(r.front(), Pending::Other);
  r.pop();
  EXPECT_EQ(r.front(), Pending::Pasv);
  r.pop();
  EXPECT_EQ(r.front(), Pending::Unknown);  // nothing waits
  r.pop();                                 // harmless when empty
  EXPECT_EQ(r.size(), 0u);
}

TEST(PairingRing, OverflowForgetsTheOldestAndIsReportedOnce) {
  PairingRing r;
  for (size_t i = 0; i < PairingRing::kCapacity; ++i) EXPECT_FALSE(r.push(Pending::Other));
  EXPECT_TRUE(r.known());
  EXPECT_TRUE(r.push(Pending::Pasv));  // lost while known: reported
  EXPECT_FALSE(r.known());
  EXPECT_FALSE(r.push(Pending::Epsv));  // already unknown: not reported again
  EXPECT_EQ(r.size(), PairingRing::kCapacity);
  EXPECT_EQ(r.front(), Pending::Unknown);
}

TEST(PairingRing, RelearnSkipsToTheOldestCommandOfThatKind) {
  PairingRing r;
  r.push(Pending::Other);
  r.push(Pending::Epsv);
  r.push(Pending::Pasv);
  r.push(Pending::Pasv);
  r.forget();
  EXPECT_EQ(r.front(), Pending::Unknown);
  EXPECT_EQ(r.relearn(Pending::Pasv), Pending::Pasv);
  EXPECT_TRUE(r.known());
  EXPECT_EQ(r.front(), Pending::Pasv);
  EXPECT_EQ(r.size(), 2u);  // the two commands before it count as answered
}

TEST(PairingRing, RelearnWithoutSuchCommandChangesNothing) {
  PairingRing r;
  r.push(Pending::Other);
  r.push(Pending::Pasv);
  r.forget();
  EXPECT_EQ(r.relearn(Pending::Lpsv), Pending::Unknown);
  EXPECT_FALSE(r.known());
  EXPECT_EQ(r.size(), 2u);
}

TEST(PairingRing, WrapsAroundTheRing) {
  PairingRing r;
  for (size_t round = 0; round < 3 * PairingRing::kCapacity; ++round) {
    EXPECT_FALSE(r.push(round % 2 ? Pending::Pasv : Pending::Epsv));
    EXPECT_EQ(r.front(), round % 2 ? Pending::Pasv : Pending::Epsv);
    r.pop();
  }
  EXPECT_TRUE(r.known());
}

}  // namespace
}  // namespace ftpalg::test
