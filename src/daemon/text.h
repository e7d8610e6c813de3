// Text of core values in daemon log lines: "192.0.2.1", "192.0.2.1:21", "client-server".
#pragma once

#include <string>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

std::string endpointText(const core::Endpoint& e);
std::string ipText(const core::IpAddr& a);
// "<client>-<server>".
std::string flowText(const core::FlowKey& f);

}  // namespace ftpalg::daemon
