// The running nf_tables ruleset as `ftpalg check` needs it: every table, base chain and rule of
// every family, each rule reduced to what it matches (protocol, TCP ports, ct state, ct mark)
// and what it does (verdict, queue, notrack, ct helper, NAT, counter). Read through libnftnl
// dumps, so iptables-nft rules appear as they are stored: native expressions plus nft_compat
// `match`/`target` expressions (xt NFQUEUE, CT, conntrack, state, connmark, multiport, tcp),
// whose xtables info blobs are decoded here as well.
//
// readRuleset() does the I/O; everything else is plain data (the diagnoses are unit-tested on
// hand-built values).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ftpalg/status.h"

namespace ftpalg::kernel {

// Netfilter hooks of the inet/ip/ip6 families (NF_INET_*); None: a regular chain.
enum class NfHook : uint8_t { Prerouting, Input, Forward, Output, Postrouting, Ingress, None };

// What a rule does once all its conditions hold.
enum class RuleVerdict : uint8_t { None, Accept, Drop, Reject, Queue, Jump, Goto, Return };

// An inclusive TCP port range.
using PortRange = std::pair<uint16_t, uint16_t>;

// conntrack state bits as `ct state` and xt conntrack/state match them.
inline constexpr uint32_t kCtStateInvalid = 1, kCtStateEstablished = 2, kCtStateRelated = 4,
                          kCtStateNew = 8, kCtStateUntracked = 64;

// A hash of the packet's connection reduced modulo `modulus`, plus `offset`: what spreads
// connections over queues (nft `symhash` / `jhash ... mod N offset A`, xt HMARK).
struct ConnHash {
  bool symmetric = false;  // symhash, HMARK: both directions of a connection hash alike
  uint32_t modulus = 0;
  uint32_t offset = 0;
  bool operator==(const ConnHash&) const = default;
};

// One rule, in chain order.
struct RuleFacts {
  std::string family;  // "ip", "ip6", "inet", ...
  std::string table;
  std::string chain;
  uint64_t handle = 0;
  // Conditions. nullopt: not matched on.
  std::optional<bool> tcp;                            // meta l4proto / ip protocol: tcp or another
  std::optional<std::vector<PortRange>> dports;       // tcp dport
  std::optional<std::vector<PortRange>> sports;       // tcp sport
  std::optional<std::vector<PortRange>> eitherPorts;  // multiport --ports: sport or dport
  uint32_t ctStates = 0;           // ct state bits required (0: no ct state condition)
  std::optional<uint32_t> ctMark;  // ct mark == value
  bool otherCondition = false;     // anything else (addresses, interfaces, limits, ...)
  // Actions.
  RuleVerdict verdict = RuleVerdict::None;
  std::string jumpTarget;             // Jump/Goto
  uint16_t queueNum = 0;              // Queue: first queue
  uint16_t queueTotal = 1;            //        number of queues
  bool queueBypass = false;           //        bypass (fail-open) flag
  bool compatQueue = false;           //        through the xt NFQUEUE target (iptables-nft)
  bool notrack = false;               // notrack / xt CT --notrack
  std::string ctHelperObject;         // ct helper set "<object name>"
  std::string ctHelperName;           // xt CT --helper <name> (kernel helper name directly)
  std::optional<uint32_t> ctMarkSet;  // ct mark set <value>
  bool dnat = false;                  // dnat / redirect
  bool snat = false;                  // snat / masquerade
  std::optional<uint64_t> packets;    // counter, when the rule has one
  // Spreading connections over queues (docs/daemon.md, "Scaling over queues"). The two
  // conditions below also set otherCondition: such a rule sees only a share of the traffic.
  std::optional<ConnHash> queueHash;      // Queue: `queue to <hash>`; queueNum = offset,
                                          //        queueTotal = modulus
  std::optional<ConnHash> hashCondition;  // <hash> == hashSlot (ftpalgd's xt spread rules)
  uint32_t hashSlot = 0;
  std::optional<uint32_t> packetMark;     // meta mark == value (-m mark --mark, full mask)
  std::optional<ConnHash> packetMarkSet;  // xt HMARK: meta mark set <hash> (no verdict)
};

// One chain (base chains have a hook).
struct ChainFacts {
  std::string family;
  std::string table;
  std::string name;
  NfHook hook = NfHook::None;
  int32_t priority = 0;
  std::string type;  // "filter", "nat", "route"
  bool policyDrop = false;
};

// One table.
struct TableFacts {
  std::string family;
  std::string name;
  std::string comment;  // nft comment (ftpalgd's pinhole table: "ftpalgd pinholes, layout ...")
};

// A `ct helper` object.
struct CtHelperFacts {
  std::string family;
  std::string table;
  std::string name;    // object name ("ftp-std")
  std::string helper;  // kernel helper it attaches ("ftp", "ftpalg")
};

// The whole ruleset.
struct Ruleset {
  std::vector<TableFacts> tables;
  std::vector<ChainFacts> chains;
  std::vector<RuleFacts> rules;  // grouped by chain, in chain order
  std::vector<CtHelperFacts> helpers;
};

std::string_view hookName(NfHook hook);  // "prerouting", ...

// Dumps every family's tables, chains, rules and ct helper objects (needs CAP_NET_ADMIN).
Status readRuleset(Ruleset& out);

}  // namespace ftpalg::kernel
