// The rules of expectation mode (--kernel-mode cthelper): they attach ftpalgd's userspace
// conntrack helper to new control connections. ftpalgd's own table, added by --install-rules
// (through libnftnl, no nft binary) and printed by --print-rules:
//
//   table inet ftpalg_helper {
//     ct helper ftpalg-ftp { type "ftpalg" protocol tcp; }     (inet: IPv4 and IPv6)
//     chain pre {
//       type filter hook prerouting priority 0;               (after conntrack and DNAT,
//       tcp dport 21 ct state new ct helper set "ftpalg-ftp"   before confirmation)
//     }
//   }
//
// The admin's forward chain admits `ct state related` (the data connections the kernel
// expects) besides established traffic and new control connections. The `ct helper` object
// holds a reference on the helper: the table goes before the helper is unregistered.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ftpalg/defaults.h"
#include "ftpalg/status.h"

namespace ftpalg::kernel {

// Which helper the rules attach, and to which control ports.
struct HelperRuleSpec {
  std::string helper{defaults::kHelperName};  // registered helper name
  std::vector<uint16_t> ports{21};            // control ports, 21 first
};

inline constexpr const char* kHelperTable = "ftpalg_helper";
inline constexpr const char* kHelperObject = "ftpalg-ftp";

// The text above for `spec`, plus the admin's forward chain as comments.
std::string helperRulesText(const HelperRuleSpec& spec);

// Replaces a stale table of the same name and adds it; remove() deletes it (absent is fine).
// Each is one nf_tables transaction (install: two) on a netlink socket of its own.
Status installHelperRules(const HelperRuleSpec& spec);
Status removeHelperRules();

}  // namespace ftpalg::kernel
