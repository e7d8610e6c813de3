// Test support: the NAT bindings of an EngineHarness's two endpoints, for EngineHarness::setNat.
#pragma once

#include <string_view>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"

namespace ftpalg::test {

// The client leaves as `pub` (SNAT); the server is unchanged.
core::NatBinding snatBinding(const EngineHarness& h, std::string_view pub);
// The client dials the server itself, the server's wire has it at `priv` (DNAT); the client is
// unchanged.
core::NatBinding dnatBinding(const EngineHarness& h, std::string_view priv);

}  // namespace ftpalg::test
