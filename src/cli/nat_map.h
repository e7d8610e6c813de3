// NatMap: the --snat/--dnat address maps of `ftpalg replay`, as the engine's NatResolver.
#pragma once

#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/types.h"
#include "ftpalg/status.h"

namespace ftpalg::cli {

// One "FROM=TO" address mapping.
struct NatRule {
  core::IpAddr from;
  core::IpAddr to;
};

// "192.168.1.2=198.51.100.7" -> {192.168.1.2, 198.51.100.7}. Both sides must be addresses of
// the same family (core::parseIp: no spaces, no port, no prefix length).
Status parseNatRule(std::string_view text, NatRule& out);

// Static NAT bindings for replay. For a flow {client C, server S}: clientInside = C,
// clientOutside = snat[C] or C, serverInside = S, serverOutside = dnat[S] or S.
class NatMap final : public core::NatResolver {
 public:
  // --snat PRIVATE=PUBLIC: client PRIVATE appears as PUBLIC to the server.
  Status addSnat(std::string_view text);
  // --dnat PUBLIC=PRIVATE: the server the client dials as PUBLIC is PRIVATE on its wire.
  Status addDnat(std::string_view text);

  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

  [[nodiscard]] bool empty() const { return snat_.empty() && dnat_.empty(); }

 private:
  std::vector<NatRule> snat_;
  std::vector<NatRule> dnat_;
};

}  // namespace ftpalg::cli
