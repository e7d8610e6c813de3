#include "daemon/policy_keys.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ftpalg/core/number.h"
#include "ftpalg/name_table.h"

namespace ftpalg::daemon {
namespace {

constexpr NameRow<core::PasvMismatch> kMismatch[] = {
    {core::PasvMismatch::Refuse, "refuse"},
    {core::PasvMismatch::RewriteToPeer, "rewrite_to_peer"},
};
static_assert(completeNameTable(kMismatch, std::size(kMismatch)));

Status errorAt(std::string_view name, const toml::node& n, std::string_view what) {
  const toml::source_region& src = n.source();
  return Status::error(fmt::format("{}:{}:{}: {}", name, src.begin.line, src.begin.column, what));
}

Status applyNetworks(std::string_view name, const toml::node& node, PolicyOverrideConfig& o) {
  const auto* arr = node.as_array();
  if (arr == nullptr || arr->empty() || arr->size() > core::kMaxOverrideNetworks) {
    return errorAt(name, node,
                   fmt::format("'networks' must be an array of 1..{} prefixes like "
                               "\"198.18.5.0/24\"",
                               core::kMaxOverrideNetworks));
  }
  for (const toml::node& el : *arr) {
    const auto* s = el.as_string();
    core::NetPrefix p;
    if (s == nullptr) return errorAt(name, el, "'networks' elements must be strings");
    if (Status st = parseNetPrefix(s->get(), p); !st.ok()) {
      return errorAt(name, el, fmt::format("'networks': {}", st.message()));
    }
    o.networks.emplace_back(s->get());
  }
  return {};
}

// One [[policy.override]] table.
Status applyOverride(std::string_view name, const toml::node& node, PolicyOverrideConfig& o) {
  const auto* tbl = node.as_table();
  if (tbl == nullptr) return errorAt(name, node, "'policy.override' entries must be tables");
  for (auto&& [k, v] : *tbl) {
    if (k.str() == "networks") {
      if (Status s = applyNetworks(name, v, o); !s.ok()) return s;
    } else if (k.str() == "allow_bounce" || k.str() == "allow_low_ports") {
      const auto* b = v.as_boolean();
      if (b == nullptr) return errorAt(name, v, fmt::format("'{}' must be true or false", k.str()));
      (k.str() == "allow_bounce" ? o.allowBounce : o.allowLowPorts) = b->get();
    } else {
      return errorAt(name, v, fmt::format("unknown key 'policy.override.{}'", k.str()));
    }
  }
  if (o.networks.empty()) return errorAt(name, node, "'policy.override' needs 'networks'");
  return {};
}

Status applyPolicyTable(std::string_view name, const toml::node& node, DaemonConfig& cfg) {
  const auto* tbl = node.as_table();
  if (tbl == nullptr) return errorAt(name, node, "'policy' must be a table");
  std::vector<PolicyOverrideConfig> overrides;
  for (auto&& [k, v] : *tbl) {
    if (k.str() != "override") {
      return errorAt(name, v, fmt::format("unknown key 'policy.{}'", k.str()));
    }
    const auto* arr = v.as_array();
    if (arr == nullptr || arr->size() > core::kMaxPolicyOverrides) {
      return errorAt(name, v,
                     fmt::format("'policy.override' must be 0..{} tables ([[policy.override]])",
                                 core::kMaxPolicyOverrides));
    }
    for (const toml::node& el : *arr) {
      if (Status s = applyOverride(name, el, overrides.emplace_back()); !s.ok()) return s;
    }
  }
  cfg.overrides = std::move(overrides);
  return {};
}

}  // namespace

bool isPolicyKey(std::string_view key) {
  for (std::string_view k : kPolicyKeys) {
    if (k == key) return true;
  }
  return false;
}

Status applyPolicyKey(std::string_view name, std::string_view key, const toml::node& node,
                      DaemonConfig& cfg) {
  if (key == "policy") return applyPolicyTable(name, node, cfg);
  const auto* s = node.as_string();
  if (s == nullptr) return errorAt(name, node, "'pasv_address_mismatch' must be a string");
  if (Status st = parsePasvMismatch(s->get(), cfg.pasvAddressMismatch); !st.ok()) {
    return errorAt(name, node, fmt::format("'pasv_address_mismatch': {}", st.message()));
  }
  return {};
}

std::string_view pasvMismatchName(core::PasvMismatch m) { return nameOf(kMismatch, m); }

Status parsePasvMismatch(std::string_view text, core::PasvMismatch& out) {
  if (valueOf(kMismatch, text, out)) return {};
  return Status::error(fmt::format("bad value '{}' (refuse, rewrite_to_peer)", text));
}

Status parseNetPrefix(std::string_view text, core::NetPrefix& out) {
  const size_t slash = text.find('/');
  core::NetPrefix p;
  if (!core::parseIp(text.substr(0, slash), p.addr)) {
    return Status::error(fmt::format("bad address in '{}'", text));
  }
  const uint32_t maxLen = p.addr.family == core::Family::V4 ? 32 : 128;
  uint32_t len = maxLen;
  if (slash != std::string_view::npos &&
      !core::parseNumber<uint32_t>(text.substr(slash + 1), len, 0, maxLen, 3)) {
    return Status::error(fmt::format("bad prefix length in '{}' (0..{})", text, maxLen));
  }
  p.length = static_cast<uint8_t>(len);
  // Host bits set is most likely a typo for another network: say so instead of guessing.
  core::NetPrefix masked = p;
  for (size_t bit = len; bit < maxLen; ++bit) {
    masked.addr.bytes[bit / 8] =
        static_cast<uint8_t>(masked.addr.bytes[bit / 8] & ~(0x80u >> (bit % 8)));
  }
  if (!(masked.addr == p.addr)) return Status::error(fmt::format("host bits set in '{}'", text));
  out = p;
  return {};
}

core::PolicyOverrides engineOverrides(const DaemonConfig& cfg) {
  core::PolicyOverrides out{};
  for (size_t i = 0; i < cfg.overrides.size() && i < out.size(); ++i) {
    const PolicyOverrideConfig& o = cfg.overrides[i];
    for (size_t j = 0; j < o.networks.size() && j < core::kMaxOverrideNetworks; ++j) {
      (void)parseNetPrefix(o.networks[j], out[i].networks[j]);  // validated when read
    }
    out[i].allowBounce = o.allowBounce.value_or(cfg.allowBounce);
    out[i].allowLowPorts = o.allowLowPorts.value_or(cfg.allowLowPorts);
  }
  return out;
}

std::string overridesText(const std::vector<PolicyOverrideConfig>& overrides) {
  std::vector<std::string> parts;
  for (const PolicyOverrideConfig& o : overrides) {
    std::string t = fmt::format("{{{}", fmt::join(o.networks, ","));
    if (o.allowBounce) t += fmt::format(" allow_bounce={}", *o.allowBounce);
    if (o.allowLowPorts) t += fmt::format(" allow_low_ports={}", *o.allowLowPorts);
    parts.push_back(t + "}");
  }
  return fmt::format("[{}]", fmt::join(parts, ","));
}

}  // namespace ftpalg::daemon
