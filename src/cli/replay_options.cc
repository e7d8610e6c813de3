#include "cli/replay_options.h"

#include <fmt/format.h>

#include <algorithm>

#include "ftpalg/core/number.h"

namespace ftpalg::cli {

Status parsePort(std::string_view text, uint16_t& out) {
  uint32_t value = 0;
  if (!core::parseNumber<uint32_t>(text, value, 0, 99999, 5)) {
    return Status::error(fmt::format("'{}' is not a port number", text));
  }
  if (value == 0 || value > 65535) {
    return Status::error(fmt::format("port {} is out of range 1..65535", text));
  }
  out = static_cast<uint16_t>(value);
  return {};
}

Status makeEngineConfig(const ReplayOptions& options, core::EngineConfig& out) {
  core::EngineConfig config;
  config.allowBounce = options.allowBounce;
  config.allowLowPorts = options.allowLowPorts;
  config.allowLongForms = options.allowLongForms;
  // Captures are taken without a gateway in the path, and may miss segments or the ACKs that
  // would free in-flight bytes: map acknowledgements forward, skip gaps, forget old bytes.
  config.ackSpace = core::AckSpace::Original;
  config.resyncOnGap = true;
  config.evictWhenFull = true;

  config.controlPorts.fill(0);
  config.controlPorts[0] = 21;
  size_t count = 1;
  for (const std::string& list : options.ports) {
    std::string_view rest = list;
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      uint16_t port = 0;
      if (Status s = parsePort(item, port); !s.ok()) {
        return Status::error(fmt::format("--ports {}: {}", list, s.message()));
      }
      const auto used = std::span<const uint16_t>(config.controlPorts).first(count);
      if (std::find(used.begin(), used.end(), port) == used.end()) {
        if (count == config.controlPorts.size()) {
          return Status::error(fmt::format("--ports: at most {} control ports (21 included)",
                                           config.controlPorts.size()));
        }
        config.controlPorts[count++] = port;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  out = config;
  return {};
}

Status makeNatMap(const ReplayOptions& options, NatMap& out) {
  for (const std::string& rule : options.snat) {
    if (Status s = out.addSnat(rule); !s.ok()) return s;
  }
  for (const std::string& rule : options.dnat) {
    if (Status s = out.addDnat(rule); !s.ok()) return s;
  }
  return {};
}

}  // namespace ftpalg::cli
