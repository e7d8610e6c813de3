// Addresses no data connection through the gateway may be announced to, whatever the bounce
// policy: loopback, unspecified, broadcast and other reserved IPv4 space, multicast and
// link-local (meaningful only on the announcing host's own link), and the gateway's own
// addresses. An announcement naming one asks the gateway to open a path to itself or to a
// whole group of hosts.
#pragma once

#include <span>

#include "ftpalg/core/types.h"

namespace ftpalg::core {

// True for 0.0.0.0/8, 127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4, 240.0.0.0/4 (with
// 255.255.255.255), ::, ::1, fe80::/10, ff00::/8, and IPv4-mapped forms of the IPv4 ones.
bool isSpecialAddress(const IpAddr& a);

// True when `a` is one of `own` (entries of Family::None are unused).
bool isListedAddress(const IpAddr& a, std::span<const IpAddr> own);

}  // namespace ftpalg::core
