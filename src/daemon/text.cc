#include "daemon/text.h"

#include <array>

namespace ftpalg::daemon {

std::string endpointText(const core::Endpoint& e) {
  std::array<char, 64> buf{};
  return std::string(buf.data(), core::formatEndpoint(e, buf));
}

std::string ipText(const core::IpAddr& a) {
  std::array<char, 64> buf{};
  return std::string(buf.data(), core::formatIp(a, buf));
}

std::string flowText(const core::FlowKey& f) {
  return endpointText(f.client) + "-" + endpointText(f.server);
}

}  // namespace ftpalg::daemon
