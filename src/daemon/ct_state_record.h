// The record a control connection's conntrack labels carry for a successor or a backup
// gateway (conntrack_state = "labels", docs/daemon.md "Conntrack state labels"): the settled
// sequence offsets of both directions and the newest outstanding announcement, 80 bits from
// `conntrack_state_bit`. conntrackd replicates labels with the entry, so a backup's ftpalgd
// reads what the master wrote. Pure: no I/O.
//
// Layout (bit offsets from the first bit; integers least significant bit first):
//   0..1    version (1; 0: no record)
//   2..17   c2s offset, 16-bit two's complement (bytes rewrites added to the client's stream)
//   18..33  s2c offset, the same for the server's stream
//   34      an announcement follows
//   35      its direction: 0 PORT/EPRT (client), 1 227/229 (server)
//   36..51  its destination port as the gateway receives the data SYN (the rewritten one)
//   52..67  its port after NAT (where the gateway sends the data connection)
//   68..79  when its pinhole expires: CLOCK_REALTIME seconds modulo 4096
// The addresses are not stored: the policy admits only announcements naming the announcing
// peer's own address (either side of its NAT), so they follow from the entry's tuples
// (expectationOf); an announcement that does not (an allowed bounce) is not carried.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "daemon/ct_state_keys.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/ct_labels.h"

namespace ftpalg::daemon {

inline constexpr unsigned kStateRecordBits = 80;
inline constexpr unsigned kStateRecordVersion = 1;
inline constexpr unsigned kMaxStateFirstBit = kernel::CtLabelBits::kBits - kStateRecordBits;
inline constexpr uint32_t kExpiryModulusS = 4096;
static_assert(kStateRecordBits == kCtStateRecordBits && kMaxStateFirstBit == kMaxCtStateFirstBit);

// One decoded record.
struct CtStateRecord {
  std::array<int32_t, 2> delta{};  // settled offsets, index core::Dir
  bool hasAnnouncement = false;
  core::Dir dir = core::Dir::C2S;
  uint16_t dstPort = 0;
  uint16_t natPort = 0;
  uint16_t expiry = 0;  // CLOCK_REALTIME seconds modulo kExpiryModulusS
  friend bool operator==(const CtStateRecord&, const CtStateRecord&) = default;
};

// Why labels were not a record.
enum class RecordError : uint8_t { None, Empty, BadVersion, BadPort, Count };
std::string_view recordErrorName(RecordError e);  // "none", "empty", "bad_version", "bad_port"

// The bits ftpalg owns: kStateRecordBits from `firstBit` (at most kMaxStateFirstBit).
kernel::CtLabelBits stateRecordMask(unsigned firstBit);
// Writes `r` at `firstBit` into `out` (other bits zero). False when an offset is outside
// -32768..32767 or a port of an announcement is 0.
bool encodeStateRecord(const CtStateRecord& r, unsigned firstBit, kernel::CtLabelBits& out);
// Reads the record at `firstBit` (bits outside the range are ignored).
RecordError decodeStateRecord(const kernel::CtLabelBits& bits, unsigned firstBit,
                              CtStateRecord& out);

// The pinhole the record's announcement stands for on the control connection with binding
// `nat` (the entry's tuples: clientInside = orig src, serverInside = orig dst, serverOutside =
// reply src, clientOutside = reply dst), as core policy plans it (src/core/policy.cc).
core::Expectation expectationOf(const CtStateRecord& r, const core::NatBinding& nat);
// Fills the announcement fields of `r` for admitted expectation `x` announced from `dir`; false
// (r unchanged) when expectationOf would not give `x` back (a bounce to a third address).
bool carryAnnouncement(const core::Expectation& x, core::Dir dir, const core::NatBinding& nat,
                       CtStateRecord& r);
// expiry for a pinhole that lives `remainingNs` more from CLOCK_REALTIME second `realNowS`.
uint16_t expiryOf(uint64_t realNowS, uint64_t remainingNs);
// Seconds left until `expiry` at `realNowS`; 0 when it lies in the past (the half of the
// modulus behind now) or is now.
uint32_t secondsLeft(uint16_t expiry, uint64_t realNowS);

}  // namespace ftpalg::daemon
