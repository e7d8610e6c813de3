#include "daemon/ct_state_record.h"

#include <iterator>

namespace ftpalg::daemon {
namespace {

constexpr unsigned kVersionAt = 0;
constexpr unsigned kDeltaAt[2] = {2, 18};
constexpr unsigned kAnnounceAt = 34;
constexpr unsigned kDirAt = 35;
constexpr unsigned kDstPortAt = 36;
constexpr unsigned kNatPortAt = 52;
constexpr unsigned kExpiryAt = 68;

void put(kernel::CtLabelBits& b, unsigned at, unsigned width, uint32_t v) {
  for (unsigned i = 0; i < width; ++i) {
    if (((v >> i) & 1U) != 0) b.set(at + i);
  }
}

uint32_t get(const kernel::CtLabelBits& b, unsigned at, unsigned width) {
  uint32_t v = 0;
  for (unsigned i = 0; i < width; ++i) {
    if (b.test(at + i)) v |= 1U << i;
  }
  return v;
}

constexpr std::string_view kNames[] = {"none", "empty", "bad_version", "bad_port"};
static_assert(std::size(kNames) == static_cast<size_t>(RecordError::Count));

}  // namespace

std::string_view recordErrorName(RecordError e) {
  const auto i = static_cast<size_t>(e);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

kernel::CtLabelBits stateRecordMask(unsigned firstBit) {
  kernel::CtLabelBits m;
  for (unsigned i = 0; i < kStateRecordBits; ++i) m.set(firstBit + i);
  return m;
}

bool encodeStateRecord(const CtStateRecord& r, unsigned firstBit, kernel::CtLabelBits& out) {
  out = {};
  for (const int32_t d : r.delta) {
    if (d < -32768 || d > 32767) return false;
  }
  if (r.hasAnnouncement && (r.dstPort == 0 || r.natPort == 0)) return false;
  put(out, firstBit + kVersionAt, 2, kStateRecordVersion);
  for (size_t d = 0; d < 2; ++d) {
    put(out, firstBit + kDeltaAt[d], 16, static_cast<uint16_t>(r.delta[d]));
  }
  if (!r.hasAnnouncement) return true;
  put(out, firstBit + kAnnounceAt, 1, 1);
  put(out, firstBit + kDirAt, 1, r.dir == core::Dir::S2C ? 1 : 0);
  put(out, firstBit + kDstPortAt, 16, r.dstPort);
  put(out, firstBit + kNatPortAt, 16, r.natPort);
  put(out, firstBit + kExpiryAt, 12, r.expiry % kExpiryModulusS);
  return true;
}

RecordError decodeStateRecord(const kernel::CtLabelBits& bits, unsigned firstBit,
                              CtStateRecord& out) {
  out = {};
  const uint32_t version = get(bits, firstBit + kVersionAt, 2);
  if (version == 0) return RecordError::Empty;
  if (version != kStateRecordVersion) return RecordError::BadVersion;
  for (size_t d = 0; d < 2; ++d) {
    out.delta[d] = static_cast<int16_t>(get(bits, firstBit + kDeltaAt[d], 16));
  }
  if (get(bits, firstBit + kAnnounceAt, 1) == 0) return RecordError::None;
  out.hasAnnouncement = true;
  out.dir = get(bits, firstBit + kDirAt, 1) != 0 ? core::Dir::S2C : core::Dir::C2S;
  out.dstPort = static_cast<uint16_t>(get(bits, firstBit + kDstPortAt, 16));
  out.natPort = static_cast<uint16_t>(get(bits, firstBit + kNatPortAt, 16));
  out.expiry = static_cast<uint16_t>(get(bits, firstBit + kExpiryAt, 12));
  if (out.dstPort == 0 || out.natPort == 0) {
    out = {};
    return RecordError::BadPort;
  }
  return RecordError::None;
}

core::Expectation expectationOf(const CtStateRecord& r, const core::NatBinding& nat) {
  core::Expectation x;
  x.srcPortAny = true;
  if (r.dir == core::Dir::C2S) {
    // Active mode: the server connects from its own address to the client's public one.
    x.src = core::Endpoint{nat.serverOutside, 0};
    x.dst = core::Endpoint{nat.clientOutside, r.dstPort};
    x.natTo = core::Endpoint{nat.clientInside, r.natPort};
    if (!(nat.serverInside == nat.serverOutside)) {
      x.hasSrcNat = true;
      x.srcNatTo = nat.serverInside;
    }
  } else {
    // Passive mode: the client connects to the address it dialled.
    x.src = core::Endpoint{nat.clientInside, 0};
    x.dst = core::Endpoint{nat.serverInside, r.dstPort};
    x.natTo = core::Endpoint{nat.serverOutside, r.natPort};
    if (!(nat.clientInside == nat.clientOutside)) {
      x.hasSrcNat = true;
      x.srcNatTo = nat.clientOutside;
    }
  }
  return x;
}

bool carryAnnouncement(const core::Expectation& x, core::Dir dir, const core::NatBinding& nat,
                       CtStateRecord& r) {
  CtStateRecord c = r;
  c.hasAnnouncement = true;
  c.dir = dir;
  c.dstPort = x.dst.port;
  c.natPort = x.natTo.port;
  const core::Expectation back = expectationOf(c, nat);
  const bool same = back.src == x.src && back.dst == x.dst && back.natTo == x.natTo &&
                    back.hasSrcNat == x.hasSrcNat &&
                    (!x.hasSrcNat || back.srcNatTo == x.srcNatTo) && x.dst.port != 0 &&
                    x.natTo.port != 0;
  if (!same) return false;
  r = c;
  return true;
}

uint16_t expiryOf(uint64_t realNowS, uint64_t remainingNs) {
  // Rounded up: a pinhole re-created from the record never outlives the original by more than
  // a second, and one that has a fraction of a second left is still re-created.
  const uint64_t at = realNowS + (remainingNs + 999'999'999) / 1'000'000'000;
  return static_cast<uint16_t>(at % kExpiryModulusS);
}

uint32_t secondsLeft(uint16_t expiry, uint64_t realNowS) {
  const auto now = static_cast<uint32_t>(realNowS % kExpiryModulusS);
  const uint32_t ahead = (expiry + kExpiryModulusS - now) % kExpiryModulusS;
  return ahead < kExpiryModulusS / 2 ? ahead : 0;
}

}  // namespace ftpalg::daemon
