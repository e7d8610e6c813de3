// The rules of expectation mode (--kernel-mode cthelper): they attach ftpalgd's userspace
// conntrack helper to new control connections. ftpalgd's own table, added by --install-rules
// (through libnftnl, no nft binary) and printed by --print-rules:
//
//   table inet ftpalg_helper {
//     ct helper ftpalg-ftp { type "ftpalg" protocol tcp; }     (inet: IPv4 and IPv6)
//     chain pre {
//       type filter hook prerouting priority -150;            (after conntrack -200, before
//       tcp dport 21 ct state new ct helper set "ftpalg-ftp"   dstnat -100)
//     }
//   }
//
// The helper must be attached before destination NAT: NAT gives a connection the seqadj
// extension (which records payload length changes) only when it already has a helper, and
// kernels without the 2025 fix for helpers assigned after NAT then never adjust a DNATed
// session whose 227 changed length. A filter chain may hook prerouting at any priority; -150
// sits between conntrack (-200, the entry exists) and dstnat (-100).
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
// Priority of the `ct helper set` chain (prerouting): between conntrack and dstnat.
inline constexpr int32_t kHelperChainPriority = -150;

// The text above for `spec`, plus the admin's forward chain as comments.
std::string helperRulesText(const HelperRuleSpec& spec);

// Replaces a stale table of the same name and adds it; remove() deletes it (absent is fine).
// Each is one nf_tables transaction on a netlink socket of its own.
Status installHelperRules(const HelperRuleSpec& spec);
Status removeHelperRules();

}  // namespace ftpalg::kernel
