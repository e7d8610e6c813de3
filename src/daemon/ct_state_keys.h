// The conntrack state keys (docs/daemon.md, "Conntrack state labels"): conntrack_state and
// conntrack_state_bit in the configuration file, --conntrack-state and --conntrack-state-bit
// on the command line.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "daemon/config.h"
#include "ftpalg/status.h"

namespace CLI {
class App;
}

namespace ftpalg::daemon {

// The record's width and the highest first bit that leaves room for it in the 128 label bits
// (ct_state_record.h checks both).
inline constexpr uint32_t kCtStateRecordBits = 80;
inline constexpr uint32_t kMaxCtStateFirstBit = 128 - kCtStateRecordBits;

// The keys this file handles, in configKeys() order.
inline constexpr std::string_view kCtStateKeys[] = {"conntrack_state", "conntrack_state_bit"};
bool isCtStateKey(std::string_view key);

// Applies key `key` (one of kCtStateKeys) of file `name`; errors as "name:line:col: message".
Status applyCtStateKey(std::string_view name, std::string_view key, const toml::node& node,
                       DaemonConfig& cfg);

// "off" or "labels".
Status parseCtState(std::string_view text, bool& labels);
std::string_view ctStateName(bool labels);

// The command line's values of these keys.
struct CtStateFlags {
  std::string state;
  uint32_t firstBit = 0;
};
void addCtStateOptions(CLI::App& app, CtStateFlags& f);
// Applies the flags given over `cfg`.
Status applyCtStateFlags(const CLI::App& app, const CtStateFlags& f, DaemonConfig& cfg);

}  // namespace ftpalg::daemon
