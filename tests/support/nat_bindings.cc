#include "tests/support/nat_bindings.h"

#include "tests/support/packet_builder.h"

namespace ftpalg::test {

core::NatBinding snatBinding(const EngineHarness& h, std::string_view pub) {
  return core::NatBinding{h.client().addr, ipFromText(pub), h.server().addr, h.server().addr};
}

core::NatBinding dnatBinding(const EngineHarness& h, std::string_view priv) {
  return core::NatBinding{h.client().addr, h.client().addr, h.server().addr, ipFromText(priv)};
}

}  // namespace ftpalg::test
