// Reduces one nf_tables rule (as libnftnl parsed it from a dump) to kernel::RuleFacts: a small
// register machine over the rule's expressions (meta/payload/ct loads, bitwise masks, cmp,
// range and set lookups) plus the nft_compat match and target blobs iptables-nft stores.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ftpalg/kernel/ruleset_facts.h"

struct nftnl_rule;

namespace ftpalg::kernel::nft {

// Elements of the port sets a rule may look up, by "family/table/set" (filled by the reader
// before rules are decoded; a set not found makes the lookup an unknown condition).
using PortSets = std::map<std::string, std::vector<PortRange>>;

// Decodes `rule` (table, chain and handle included).
RuleFacts decodeRule(const nftnl_rule* rule, const std::string& family, const PortSets& sets);

}  // namespace ftpalg::kernel::nft
