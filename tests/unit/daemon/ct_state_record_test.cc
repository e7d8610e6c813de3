// The conntrack label record (src/daemon/ct_state_record.cc): encode/decode round trips at
// every allowed first bit, only the owned bits written, limits (offsets beyond 16 bits, port 0,
// unknown versions), the expiry modulo arithmetic, and the announcement <-> pinhole mapping
// against what core policy plans for PASV and PORT through SNAT and DNAT.
#include "daemon/ct_state_record.h"

#include <gtest/gtest.h>

#include "daemon/ct_state_keys.h"

namespace ftpalg::test {
namespace {

using daemon::CtStateRecord;
using daemon::RecordError;

core::IpAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  core::IpAddr x;
  x.family = core::Family::V4;
  x.bytes[0] = a;
  x.bytes[1] = b;
  x.bytes[2] = c;
  x.bytes[3] = d;
  return x;
}

// Client 198.18.1.2 SNATed to 198.19.100.100, dialling 198.18.100.100 DNATed to 198.19.1.2.
core::NatBinding natBoth() {
  core::NatBinding b;
  b.clientInside = v4(198, 18, 1, 2);
  b.clientOutside = v4(198, 19, 100, 100);
  b.serverInside = v4(198, 18, 100, 100);
  b.serverOutside = v4(198, 19, 1, 2);
  return b;
}

CtStateRecord full() {
  CtStateRecord r;
  r.delta = {4, -4};
  r.hasAnnouncement = true;
  r.dir = core::Dir::S2C;
  r.dstPort = 40043;
  r.natPort = 40044;
  r.expiry = 4095;
  return r;
}

TEST(CtStateRecord, RoundTripsAtEveryFirstBit) {
  for (unsigned first = 0; first <= daemon::kMaxStateFirstBit; ++first) {
    for (const CtStateRecord& r : {CtStateRecord{}, full()}) {
      kernel::CtLabelBits bits;
      ASSERT_TRUE(daemon::encodeStateRecord(r, first, bits));
      CtStateRecord back;
      ASSERT_EQ(daemon::decodeStateRecord(bits, first, back), RecordError::None) << first;
      EXPECT_EQ(back, r) << first;
    }
  }
}

TEST(CtStateRecord, WritesOnlyTheOwnedBits) {
  const kernel::CtLabelBits mask = daemon::stateRecordMask(48);
  EXPECT_FALSE(mask.test(47));
  EXPECT_TRUE(mask.test(48));
  EXPECT_TRUE(mask.test(127));
  kernel::CtLabelBits bits;
  CtStateRecord r = full();
  r.delta = {-1, -1};  // all sixteen bits of each offset set
  ASSERT_TRUE(daemon::encodeStateRecord(r, 48, bits));
  for (unsigned i = 0; i < kernel::CtLabelBits::kBits; ++i) {
    if (bits.test(i)) {
      EXPECT_TRUE(mask.test(i)) << i;
    }
  }
  // An admin's bits below the range do not disturb decoding.
  bits.set(0);
  bits.set(47);
  CtStateRecord back;
  ASSERT_EQ(daemon::decodeStateRecord(bits, 48, back), RecordError::None);
  EXPECT_EQ(back, r);
}

TEST(CtStateRecord, RefusesWhatItCannotCarry) {
  kernel::CtLabelBits bits;
  CtStateRecord r;
  r.delta = {32768, 0};
  EXPECT_FALSE(daemon::encodeStateRecord(r, 0, bits));
  r.delta = {0, -32769};
  EXPECT_FALSE(daemon::encodeStateRecord(r, 0, bits));
  r.delta = {32767, -32768};
  EXPECT_TRUE(daemon::encodeStateRecord(r, 0, bits));
  r = full();
  r.natPort = 0;
  EXPECT_FALSE(daemon::encodeStateRecord(r, 0, bits));
}

TEST(CtStateRecord, DecodeNamesWhatIsWrong) {
  CtStateRecord out;
  EXPECT_EQ(daemon::decodeStateRecord(kernel::CtLabelBits{}, 48, out), RecordError::Empty);
  kernel::CtLabelBits v2;
  v2.set(49);  // version 2
  EXPECT_EQ(daemon::decodeStateRecord(v2, 48, out), RecordError::BadVersion);
  kernel::CtLabelBits noPort;
  noPort.set(48);       // version 1
  noPort.set(48 + 34);  // an announcement, ports 0
  EXPECT_EQ(daemon::decodeStateRecord(noPort, 48, out), RecordError::BadPort);
  EXPECT_EQ(out, CtStateRecord{});
  EXPECT_EQ(daemon::recordErrorName(RecordError::BadVersion), "bad_version");
}

TEST(CtStateRecord, ExpiryWrapsModulo4096) {
  EXPECT_EQ(daemon::expiryOf(4090, 10'000'000'000), 4);  // 4100 mod 4096
  EXPECT_EQ(daemon::expiryOf(100, 1), 101);              // rounded up
  EXPECT_EQ(daemon::secondsLeft(daemon::expiryOf(4090, 10'000'000'000), 4090), 10U);
  EXPECT_EQ(daemon::secondsLeft(100, 100), 0U);
  EXPECT_EQ(daemon::secondsLeft(100, 101), 0U);  // just past
  EXPECT_EQ(daemon::secondsLeft(100, 4096 + 70), 30U);
}

// The pinholes core policy plans (src/core/policy.cc), rebuilt from ports and direction.
TEST(CtStateRecord, PassiveAnnouncementMapsBackToItsPinhole) {
  const core::NatBinding nat = natBoth();
  core::Expectation x;
  x.src = core::Endpoint{nat.clientInside, 0};
  x.dst = core::Endpoint{nat.serverInside, 40043};
  x.natTo = core::Endpoint{nat.serverOutside, 40043};
  x.hasSrcNat = true;
  x.srcNatTo = nat.clientOutside;
  CtStateRecord r;
  ASSERT_TRUE(daemon::carryAnnouncement(x, core::Dir::S2C, nat, r));
  const core::Expectation back = daemon::expectationOf(r, nat);
  EXPECT_EQ(back.src, x.src);
  EXPECT_EQ(back.dst, x.dst);
  EXPECT_EQ(back.natTo, x.natTo);
  EXPECT_TRUE(back.hasSrcNat);
  EXPECT_EQ(back.srcNatTo, x.srcNatTo);
}

TEST(CtStateRecord, ActiveAnnouncementKeepsAReassignedPort) {
  const core::NatBinding nat = natBoth();
  core::Expectation x;
  x.src = core::Endpoint{nat.serverOutside, 0};
  x.dst = core::Endpoint{nat.clientOutside, 50001};  // moved to the next free public port
  x.natTo = core::Endpoint{nat.clientInside, 50000};
  x.hasSrcNat = true;
  x.srcNatTo = nat.serverInside;
  CtStateRecord r;
  ASSERT_TRUE(daemon::carryAnnouncement(x, core::Dir::C2S, nat, r));
  EXPECT_EQ(r.dstPort, 50001);
  EXPECT_EQ(r.natPort, 50000);
  const core::Expectation back = daemon::expectationOf(r, nat);
  EXPECT_EQ(back.dst, x.dst);
  EXPECT_EQ(back.natTo, x.natTo);
  EXPECT_EQ(back.srcNatTo, x.srcNatTo);
}

TEST(CtStateRecord, ABounceIsNotCarried) {
  const core::NatBinding nat = natBoth();
  core::Expectation x;
  x.src = core::Endpoint{nat.clientInside, 0};
  x.dst = core::Endpoint{v4(198, 18, 200, 1), 40043};  // a third host (allow_bounce)
  x.natTo = x.dst;
  CtStateRecord r;
  EXPECT_FALSE(daemon::carryAnnouncement(x, core::Dir::S2C, nat, r));
  EXPECT_FALSE(r.hasAnnouncement);
}

TEST(CtStateRecord, WithoutNatThePinholeHasNoSourceNat) {
  core::NatBinding nat;
  nat.clientInside = nat.clientOutside = v4(198, 18, 1, 2);
  nat.serverInside = nat.serverOutside = v4(198, 19, 1, 2);
  CtStateRecord r;
  r.hasAnnouncement = true;
  r.dir = core::Dir::S2C;
  r.dstPort = r.natPort = 40000;
  const core::Expectation x = daemon::expectationOf(r, nat);
  EXPECT_FALSE(x.hasSrcNat);
  EXPECT_EQ(x.dst, x.natTo);
}

}  // namespace
}  // namespace ftpalg::test
