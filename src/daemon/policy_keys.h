// The announcement policy keys of the configuration file beyond the switches:
// pasv_address_mismatch and the [[policy.override]] tables (ftpalgd.toml(5), "POLICY"), and
// their translation into the engine's fixed tables.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "daemon/config.h"
#include "ftpalg/core/policy_config.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// The keys this file handles, in configKeys() order.
inline constexpr std::string_view kPolicyKeys[] = {"pasv_address_mismatch", "policy"};
bool isPolicyKey(std::string_view key);

// Applies key `key` (one of kPolicyKeys) of file `name`; errors as "name:line:col: message".
Status applyPolicyKey(std::string_view name, std::string_view key, const toml::node& node,
                      DaemonConfig& cfg);

std::string_view pasvMismatchName(core::PasvMismatch m);
Status parsePasvMismatch(std::string_view text, core::PasvMismatch& out);
// "198.18.5.0/24", "2001:db8::/32", or an address alone (a host: /32 or /128). Host bits must
// be zero.
Status parseNetPrefix(std::string_view text, core::NetPrefix& out);

// The overrides as the engine takes them: unset switches become the global ones.
core::PolicyOverrides engineOverrides(const DaemonConfig& cfg);
// One line per configuration for reload messages: "[{198.18.5.0/24 bounce=true}]".
std::string overridesText(const std::vector<PolicyOverrideConfig>& overrides);

}  // namespace ftpalg::daemon
