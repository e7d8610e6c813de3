#include "daemon/ct_state_keys.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iterator>

namespace ftpalg::daemon {
namespace {

Status errorAt(std::string_view name, const toml::node& n, std::string_view what) {
  const toml::source_region& src = n.source();
  return Status::error(fmt::format("{}:{}:{}: {}", name, src.begin.line, src.begin.column, what));
}

}  // namespace

bool isCtStateKey(std::string_view key) {
  return std::find(std::begin(kCtStateKeys), std::end(kCtStateKeys), key) != std::end(kCtStateKeys);
}

Status parseCtState(std::string_view text, bool& labels) {
  if (text == "off") {
    labels = false;
  } else if (text == "labels") {
    labels = true;
  } else {
    return Status::error(fmt::format("'{}': must be \"off\" or \"labels\"", text));
  }
  return {};
}

std::string_view ctStateName(bool labels) { return labels ? "labels" : "off"; }

Status applyCtStateKey(std::string_view name, std::string_view key, const toml::node& node,
                       DaemonConfig& cfg) {
  if (key == "conntrack_state") {
    const auto* s = node.as_string();
    if (s == nullptr) return errorAt(name, node, "'conntrack_state' must be \"off\" or \"labels\"");
    if (Status st = parseCtState(s->get(), cfg.conntrackState); !st.ok()) {
      return errorAt(name, node, fmt::format("conntrack_state: {}", st.message()));
    }
    return {};
  }
  const auto* i = node.as_integer();
  if (i == nullptr || i->get() < 0 || i->get() > kMaxCtStateFirstBit) {
    return errorAt(
        name, node,
        fmt::format("'conntrack_state_bit' must be an integer 0..{}", kMaxCtStateFirstBit));
  }
  cfg.conntrackStateBit = static_cast<uint32_t>(i->get());
  return {};
}

void addCtStateOptions(CLI::App& app, CtStateFlags& f) {
  app.add_option("--conntrack-state", f.state,
                 "Pinhole mode: publish settled offsets and pending announcements in the control "
                 "connection's conntrack labels (for a backup or successor): off (default) or "
                 "labels")
      ->type_name("MODE");
  app.add_option("--conntrack-state-bit", f.firstBit,
                 fmt::format("First of the {} label bits ftpalgd owns (0..{}, default {})",
                             kCtStateRecordBits, kMaxCtStateFirstBit, kMaxCtStateFirstBit))
      ->type_name("BIT");
}

Status applyCtStateFlags(const CLI::App& app, const CtStateFlags& f, DaemonConfig& cfg) {
  if (app.count("--conntrack-state") > 0) {
    if (Status s = parseCtState(f.state, cfg.conntrackState); !s.ok()) {
      return Status::error(fmt::format("--conntrack-state: {}", s.message()));
    }
  }
  if (app.count("--conntrack-state-bit") > 0) {
    if (f.firstBit > kMaxCtStateFirstBit) {
      return Status::error(
          fmt::format("--conntrack-state-bit: must be 0..{}", kMaxCtStateFirstBit));
    }
    cfg.conntrackStateBit = f.firstBit;
  }
  return {};
}

}  // namespace ftpalg::daemon
