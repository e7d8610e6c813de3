// Per-network policy overrides: prefix matching over the fixed tables of EngineConfig.
#include "ftpalg/core/policy_config.h"

namespace ftpalg::core {
namespace {

bool inAny(const PolicyOverride& o, const IpAddr& a) {
  for (const NetPrefix& p : o.networks) {
    if (prefixContains(p, a)) return true;
  }
  return false;
}

}  // namespace

bool prefixContains(const NetPrefix& p, const IpAddr& a) {
  if (p.addr.family == Family::None || p.addr.family != a.family) return false;
  const size_t bits = p.length > a.size() * 8 ? a.size() * 8 : p.length;
  const size_t whole = bits / 8;
  for (size_t i = 0; i < whole; ++i) {
    if (p.addr.bytes[i] != a.bytes[i]) return false;
  }
  if (bits % 8 == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff << (8 - bits % 8));
  return (p.addr.bytes[whole] & mask) == (a.bytes[whole] & mask);
}

const PolicyOverride* findOverride(const PolicyOverrides& overrides, const IpAddr& serverInside,
                                   const IpAddr& serverOutside, const IpAddr& announced) {
  for (const PolicyOverride& o : overrides) {
    if (!inAny(o, announced)) continue;
    if (inAny(o, serverOutside) || inAny(o, serverInside)) return &o;
  }
  return nullptr;
}

}  // namespace ftpalg::core
