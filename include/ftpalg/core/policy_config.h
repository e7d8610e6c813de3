// Policy settings of EngineConfig beyond the global switches: what a passive reply naming an
// address that is not its server's own gets, and per-network overrides of the bounce and
// low-port policy (servers that exchange data among themselves, FXP).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "ftpalg/core/types.h"

namespace ftpalg::core {

// A 227/228 whose address is not its server's own on either side of the NAT (a server behind a
// second NAT or in a container announcing its private address).
enum class PasvMismatch : uint8_t {
  Refuse,         // refused, reason pasv_address_mismatch (special addresses: special_address)
  RewriteToPeer,  // the client is given the server's control-connection address with the
                  // announced port; the data connection is admitted to the server's own address
};

// An address prefix ("198.18.5.0/24"). Family::None: an unused slot.
struct NetPrefix {
  IpAddr addr;
  uint8_t length = 0;  // 0..32 (IPv4), 0..128 (IPv6)
};

// True when `a` lies in `p` (same family, the first `p.length` bits equal).
bool prefixContains(const NetPrefix& p, const IpAddr& a);

inline constexpr size_t kMaxOverrideNetworks = 8;
inline constexpr size_t kMaxPolicyOverrides = 8;

// Policy for announcements among the hosts of some networks: it applies when the control
// connection's server and the announced address both lie in `networks`, and then replaces the
// global allowBounce and allowLowPorts (the first matching override wins).
struct PolicyOverride {
  std::array<NetPrefix, kMaxOverrideNetworks> networks{};
  bool allowBounce = false;
  bool allowLowPorts = false;
};
using PolicyOverrides = std::array<PolicyOverride, kMaxPolicyOverrides>;

// The first override naming both `server` (either of its two addresses) and `announced`;
// nullptr when none does.
const PolicyOverride* findOverride(const PolicyOverrides& overrides, const IpAddr& serverInside,
                                   const IpAddr& serverOutside, const IpAddr& announced);

}  // namespace ftpalg::core
