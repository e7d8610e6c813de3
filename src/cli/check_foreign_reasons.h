// Which refusal reasons of the daemon's events mean that a server announced a foreign address
// in a passive reply (finding server_foreign_address, check_diagnose.h (10)).
#pragma once

#include <span>
#include <string_view>

#include "ftpalg/core/engine.h"

namespace ftpalg::cli {

// bounce_address, special_address and pasv_address_mismatch: the 227/228/229 named a host
// elsewhere, a special address, or another address than the server's own. Named one by one:
// family_mismatch (the other address family) and retransmit_mismatch (a resent reply that
// differs) say nothing about the address, and a reason this build does not know is not
// guessed at from its name.
std::span<const core::Reason> foreignAddressReasons();

// True when `reason` (an event's "reason" text) is one of foreignAddressReasons().
bool isForeignAddressReason(std::string_view reason);

}  // namespace ftpalg::cli
