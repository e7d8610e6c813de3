#include "cli/nat_map.h"

#include <fmt/format.h>

#include <string>

namespace ftpalg::cli {
namespace {

const core::IpAddr* lookup(const std::vector<NatRule>& rules, const core::IpAddr& addr) {
  for (const NatRule& r : rules) {
    if (r.from == addr) return &r.to;
  }
  return nullptr;
}

Status addRule(std::vector<NatRule>& rules, std::string_view option, std::string_view text) {
  NatRule rule;
  if (Status s = parseNatRule(text, rule); !s.ok()) {
    return Status::error(fmt::format("{} {}: {}", option, text, s.message()));
  }
  if (const core::IpAddr* existing = lookup(rules, rule.from)) {
    if (*existing == rule.to) return {};
    return Status::error(fmt::format("{} {}: address {} is already mapped", option, text,
                                     text.substr(0, text.find('='))));
  }
  rules.push_back(rule);
  return {};
}

}  // namespace

Status parseNatRule(std::string_view text, NatRule& out) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) return Status::error("expected ADDRESS=ADDRESS");
  const std::string_view from = text.substr(0, eq);
  const std::string_view to = text.substr(eq + 1);
  if (!core::parseIp(from, out.from)) {
    return Status::error(fmt::format("'{}' is not an IPv4 or IPv6 address", from));
  }
  if (!core::parseIp(to, out.to)) {
    return Status::error(fmt::format("'{}' is not an IPv4 or IPv6 address", to));
  }
  if (out.from.family != out.to.family) {
    return Status::error("both addresses must be of the same family");
  }
  return {};
}

Status NatMap::addSnat(std::string_view text) { return addRule(snat_, "--snat", text); }

Status NatMap::addDnat(std::string_view text) { return addRule(dnat_, "--dnat", text); }

bool NatMap::resolve(const core::FlowKey& flow, core::NatBinding& out) {
  const core::IpAddr* clientPublic = lookup(snat_, flow.client.addr);
  const core::IpAddr* serverPrivate = lookup(dnat_, flow.server.addr);
  out.clientInside = flow.client.addr;
  out.clientOutside = clientPublic != nullptr ? *clientPublic : flow.client.addr;
  out.serverInside = flow.server.addr;
  out.serverOutside = serverPrivate != nullptr ? *serverPrivate : flow.server.addr;
  return clientPublic != nullptr || serverPrivate != nullptr;
}

}  // namespace ftpalg::cli
