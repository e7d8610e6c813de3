#include "cli/check_diagnose.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "cli/check_foreign_reasons.h"

namespace ftpalg::cli {
namespace {

using kernel::ChainFacts;
using kernel::NfHook;
using kernel::RuleFacts;
using kernel::Ruleset;
using kernel::RuleVerdict;

constexpr uint32_t kDefaultMark = 0xf7a1;

bool covers(const std::optional<std::vector<kernel::PortRange>>& ports, uint16_t port) {
  if (!ports) return true;
  return std::any_of(ports->begin(), ports->end(), [port](const kernel::PortRange& r) {
    return r.first <= port && port <= r.second;
  });
}

// A packet to the control port (client to server).
bool appliesToClientSide(const RuleFacts& r, uint16_t port) {
  return r.tcp != false && covers(r.dports, port) && !r.sports && covers(r.eitherPorts, port);
}
// A packet from the control port (server to client).
bool appliesToServerSide(const RuleFacts& r, uint16_t port) {
  return r.tcp != false && covers(r.sports, port) && !r.dports && covers(r.eitherPorts, port);
}
bool appliesToControl(const RuleFacts& r, uint16_t port) {
  return appliesToClientSide(r, port) || appliesToServerSide(r, port);
}

bool isFtpalgTable(std::string_view table) { return table.starts_with("ftpalg_"); }

const ChainFacts* chainOf(const Ruleset& rs, const std::string& family, const std::string& table,
                          const std::string& name) {
  for (const ChainFacts& c : rs.chains) {
    if (c.family == family && c.table == table && c.name == name) return &c;
  }
  return nullptr;
}

// The base chain a rule runs in: its own chain, or a base chain of the same table that jumps
// to it (one level, as iptables-nft user chains are used).
const ChainFacts* baseChainOf(const Ruleset& rs, const RuleFacts& r) {
  const ChainFacts* c = chainOf(rs, r.family, r.table, r.chain);
  if (c == nullptr || c->hook != NfHook::None) return c;
  for (const RuleFacts& j : rs.rules) {
    if (j.family == r.family && j.table == r.table && j.jumpTarget == r.chain &&
        (j.verdict == RuleVerdict::Jump || j.verdict == RuleVerdict::Goto)) {
      const ChainFacts* b = chainOf(rs, j.family, j.table, j.chain);
      if (b != nullptr && b->hook != NfHook::None) return b;
    }
  }
  return nullptr;
}

bool onForwardPath(NfHook h) {
  return h == NfHook::Prerouting || h == NfHook::Forward || h == NfHook::Postrouting;
}

// inet covers ip and ip6.
bool familiesOverlap(std::string_view a, std::string_view b) {
  return a == b || a == "inet" || b == "inet";
}

std::string ruleName(const RuleFacts& r) {
  return fmt::format("rule {} in chain {} {} {}", r.handle, r.family, r.table, r.chain);
}

std::string ctStatesText(uint32_t states) {
  std::string out;
  const std::pair<uint32_t, const char*> names[] = {{kernel::kCtStateInvalid, "invalid"},
                                                    {kernel::kCtStateEstablished, "established"},
                                                    {kernel::kCtStateRelated, "related"},
                                                    {kernel::kCtStateNew, "new"},
                                                    {kernel::kCtStateUntracked, "untracked"}};
  for (const auto& [bit, name] : names) {
    if ((states & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

std::string_view verdictText(RuleVerdict v) {
  switch (v) {
    case RuleVerdict::Accept:
      return "accept";
    case RuleVerdict::Drop:
      return "drop";
    case RuleVerdict::Reject:
      return "reject";
    default:
      return "verdict";
  }
}

// The rules that queue control traffic on the forwarding path, without a ct mark condition
// (the fail-open rules for rewritten sessions are extra, not the general rule).
std::vector<const RuleFacts*> queueRules(const GatewayFacts& f, const GatewaySample& s) {
  std::vector<const RuleFacts*> out;
  for (const RuleFacts& r : s.ruleset.rules) {
    if (r.verdict != RuleVerdict::Queue || r.ctMark) continue;
    const ChainFacts* c = baseChainOf(s.ruleset, r);
    if (c == nullptr || !onForwardPath(c->hook)) continue;
    if (std::any_of(f.settings.ports.begin(), f.settings.ports.end(),
                    [&r](uint16_t p) { return appliesToControl(r, p); })) {
      out.push_back(&r);
    }
  }
  return out;
}

// The helper a `ct helper set` rule attaches ("ftp", "ftpalg"), empty: none.
std::string helperOf(const Ruleset& rs, const RuleFacts& r) {
  if (!r.ctHelperName.empty()) return r.ctHelperName;
  if (r.ctHelperObject.empty()) return {};
  for (const kernel::CtHelperFacts& h : rs.helpers) {
    if (h.family == r.family && h.table == r.table && h.name == r.ctHelperObject) return h.helper;
  }
  return "?";
}

// Expectation mode: a rule attaches ftpalgd's userspace helper.
bool expectationMode(const Ruleset& rs) {
  return std::any_of(rs.rules.begin(), rs.rules.end(),
                     [&rs](const RuleFacts& r) { return helperOf(rs, r) == "ftpalg"; });
}

std::set<uint16_t> queuesUsed(const std::vector<const RuleFacts*>& rules) {
  std::set<uint16_t> q;
  for (const RuleFacts* r : rules) {
    for (uint32_t i = 0; i < r->queueTotal; ++i) q.insert(static_cast<uint16_t>(r->queueNum + i));
  }
  return q;
}

std::string joinQueues(const std::set<uint16_t>& qs) {
  std::string out;
  for (uint16_t q : qs) out += (out.empty() ? "" : ",") + std::to_string(q);
  return out;
}

bool liveSessions(const GatewaySample& s) {
  return std::any_of(s.conns.begin(), s.conns.end(),
                     [](const kernel::ControlConnFacts& c) { return c.established; });
}

}  // namespace

void diagnoseConntrack(const GatewayFacts& f, Findings& out) {
  if (!f.conntrack.present) {
    out.push_back({"conntrack_unavailable", Severity::Error,
                   "connection tracking is not available (/proc/sys/net/netfilter/nf_conntrack_max "
                   "is missing): NAT, pinholes and `ct state` cannot work",
                   "load nf_conntrack (modprobe nf_conntrack) or use a kernel with it"});
    return;
  }
  if (f.conntrack.max > 0 && f.conntrack.count * 10 >= f.conntrack.max * 9) {
    out.push_back({"conntrack_table_full", Severity::Warning,
                   fmt::format("the conntrack table holds {} of at most {} entries: new "
                               "connections (control and data) are dropped when it is full",
                               f.conntrack.count, f.conntrack.max),
                   "raise net.netfilter.nf_conntrack_max (sysctl -w "
                   "net.netfilter.nf_conntrack_max=N) or find what fills the table"});
  }
}

void diagnoseQueueRules(const GatewayFacts& f, Findings& out) {
  const Ruleset& rs = f.first.ruleset;
  if (expectationMode(rs)) return;  // the kernel queues helped connections itself
  const auto rules = queueRules(f, f.first);
  for (uint16_t port : f.settings.ports) {
    const bool c2s = std::any_of(rules.begin(), rules.end(), [port](const RuleFacts* r) {
      return appliesToClientSide(*r, port);
    });
    const bool s2c = std::any_of(rules.begin(), rules.end(), [port](const RuleFacts* r) {
      return appliesToServerSide(*r, port);
    });
    if (!c2s && !s2c) {
      out.push_back({"no_queue_rule", Severity::Error,
                     fmt::format("no rule on the forwarding path sends FTP control packets (tcp "
                                 "port {}) to an NFQUEUE queue: ftpalgd never sees them, so no "
                                 "PORT/PASV is rewritten and no data connection is admitted",
                                 port),
                     "add the queueing rules `ftpalg rules` prints (both tcp dport and tcp sport "
                     "of every control port), or start ftpalgd with --install-rules"});
    } else if (!c2s || !s2c) {
      out.push_back({"queue_rule_one_direction", Severity::Error,
                     fmt::format("only packets {} port {} are queued: the other direction's "
                                 "announcements ({}) are never inspected",
                                 c2s ? "to" : "from", port,
                                 c2s ? "227/229 replies of the server" : "PORT/EPRT of the client"),
                     fmt::format("add the missing rule: tcp {} {} queue (see `ftpalg rules`)",
                                 c2s ? "sport" : "dport", port)});
    }
  }
}

void diagnoseQueueNotHit(const GatewayFacts& f, Findings& out) {
  if (!f.sampledTwice || !f.first.connsRead || !f.second.connsRead) return;
  const auto rules1 = queueRules(f, f.first);
  const auto rules2 = queueRules(f, f.second);
  if (rules1.empty() || rules2.empty()) return;
  // A connection carried a packet between the samples when its timeout did not run down.
  size_t flowing = 0;
  for (const auto& a : f.first.conns) {
    for (const auto& b : f.second.conns) {
      if (a.established && b.established && a.client == b.client && a.clientPort == b.clientPort &&
          a.dialled == b.dialled && a.port == b.port && b.timeoutS >= a.timeoutS) {
        ++flowing;
      }
    }
  }
  if (flowing == 0) return;
  bool hit = false;
  for (const RuleFacts* b : rules2) {
    for (const RuleFacts* a : rules1) {
      if (a->family == b->family && a->table == b->table && a->handle == b->handle && a->packets &&
          b->packets && *b->packets > *a->packets) {
        hit = true;
      }
    }
  }
  const std::set<uint16_t> used = queuesUsed(rules2);
  for (const auto& qb : f.second.queues) {
    for (const auto& qa : f.first.queues) {
      if (qa.queueNum == qb.queueNum && used.count(qb.queueNum) > 0 &&
          qb.idSequence != qa.idSequence) {
        hit = true;
      }
    }
  }
  if (hit) return;
  std::string names;
  for (const RuleFacts* r : rules2) names += (names.empty() ? "" : "; ") + ruleName(*r);
  out.push_back(
      {"queue_rule_not_hit", Severity::Error,
       fmt::format("{} control connection(s) carried packets during the {:.1f} s sample, but "
                   "the queue rule(s) ({}) sent none to a queue: the rules are not on the path "
                   "the traffic takes (a condition that never matches, such as another interface "
                   "or address, or another address family)",
                   flowing, f.intervalS, names),
       "match only on the protocol and the control port (tcp dport/sport 21), as `ftpalg rules` "
       "prints, in a forward-hook chain"});
}

void diagnoseQueueShadowed(const GatewayFacts& f, Findings& out) {
  const Ruleset& rs = f.first.ruleset;
  std::set<std::pair<std::string, uint64_t>> reported;
  for (const RuleFacts* q : queueRules(f, f.first)) {
    const ChainFacts* qc = baseChainOf(rs, *q);
    for (uint16_t port : f.settings.ports) {
      const bool c2s = appliesToClientSide(*q, port);
      if (!c2s && !appliesToServerSide(*q, port)) continue;
      const auto ends = [&](const RuleFacts& r, bool sameChain) {
        const bool stops = r.verdict == RuleVerdict::Drop || r.verdict == RuleVerdict::Reject ||
                           (sameChain && r.verdict == RuleVerdict::Accept);
        const uint32_t harmless = kernel::kCtStateInvalid | kernel::kCtStateUntracked;
        return stops && !r.otherCondition && !r.ctMark &&
               (r.ctStates == 0 || (r.ctStates & ~harmless) != 0) &&
               (c2s ? appliesToClientSide(r, port) : appliesToServerSide(r, port));
      };
      for (const RuleFacts& r : rs.rules) {
        const ChainFacts* rc = baseChainOf(rs, r);
        if (&r == q || rc == nullptr || qc == nullptr) continue;
        const bool sameChain = r.family == q->family && r.table == q->table && r.chain == q->chain;
        const bool before = sameChain ? &r < q
                                      : rc->hook == qc->hook && rc->priority <= qc->priority &&
                                            familiesOverlap(rc->family, qc->family);
        if (!before || !ends(r, sameChain) || !reported.insert({r.table, r.handle}).second) {
          continue;
        }
        const std::string state =
            r.ctStates != 0 ? fmt::format(" in ct state {}", ctStatesText(r.ctStates)) : "";
        out.push_back(
            {"queue_rule_shadowed", Severity::Error,
             fmt::format("{} ({}) ends the chain for tcp {} {} packets{} before the queue rule "
                         "({}) sees them: ftpalgd never inspects those packets",
                         ruleName(r), verdictText(r.verdict), c2s ? "dport" : "sport", port, state,
                         ruleName(*q)),
             sameChain ? "move the queue rules to the top of the chain (or into their own chain "
                         "at priority mangle, -150, as `ftpalg rules` does)"
                       : "queue in a chain that runs before this one (a lower priority number), "
                         "or let port-21 traffic through this chain"});
      }
    }
  }
}

void diagnoseForwardAccept(const GatewayFacts& f, Findings& out) {
  const Ruleset& rs = f.first.ruleset;
  const bool expectation = expectationMode(rs);
  if (!expectation && queueRules(f, f.first).empty()) return;
  uint32_t mark = f.settings.mark.value_or(kDefaultMark);
  if (!f.settings.mark) {
    for (const RuleFacts& r : rs.rules) {
      if (isFtpalgTable(r.table) && r.chain == "pin" && r.ctMarkSet) mark = *r.ctMarkSet;
    }
  }
  for (const ChainFacts& c : rs.chains) {
    if (c.hook != NfHook::Forward || !c.policyDrop || isFtpalgTable(c.table)) continue;
    std::set<std::string> chains{c.name};
    for (const RuleFacts& r : rs.rules) {
      if (r.family == c.family && r.table == c.table && r.chain == c.name &&
          (r.verdict == RuleVerdict::Jump || r.verdict == RuleVerdict::Goto)) {
        chains.insert(r.jumpTarget);
      }
    }
    const bool admits = std::any_of(rs.rules.begin(), rs.rules.end(), [&](const RuleFacts& r) {
      if (r.family != c.family || r.table != c.table || chains.count(r.chain) == 0 ||
          r.verdict != RuleVerdict::Accept || r.otherCondition || r.tcp == false) {
        return false;
      }
      if (expectation) return !r.ctMark && (r.ctStates & kernel::kCtStateRelated) != 0;
      return r.ctMark == mark;
    });
    if (admits) continue;
    const std::string where = fmt::format("chain {} {} {}", c.family, c.table, c.name);
    if (expectation) {
      out.push_back({"forward_no_related_accept", Severity::Error,
                     fmt::format("the forward {} (policy drop) has no `ct state related accept`: "
                                 "data connections the helper expects are dropped",
                                 where),
                     fmt::format("add `ct state related accept` to {}", where)});
    } else {
      out.push_back({"forward_no_mark_accept", Severity::Error,
                     fmt::format("the forward {} (policy drop) has no `ct mark 0x{:08x} accept`: "
                                 "data connections ftpalgd admitted (and marked) are dropped",
                                 where, mark),
                     fmt::format("add `ct mark 0x{:08x} accept` to {} (iptables: -m connmark "
                                 "--mark 0x{:x} -j ACCEPT)",
                                 mark, where, mark)});
    }
  }
}

void diagnoseDaemon(const GatewayFacts& f, Findings& out) {
  const Ruleset& rs = f.first.ruleset;
  const std::string pids = [&f] {
    std::string s;
    for (int p : f.daemon.ftpalgdPids) s += (s.empty() ? "" : ",") + std::to_string(p);
    return s;
  }();
  if (expectationMode(rs)) {
    if (f.daemon.ftpalgdPids.empty()) {
      out.push_back({"daemon_not_running", Severity::Error,
                     "the ftpalg conntrack helper is attached to control connections but no "
                     "ftpalgd process runs: announcements are not inspected or rewritten",
                     "start ftpalgd (systemctl start ftpalgd)"});
    }
  } else {
    const auto rules = queueRules(f, f.first);
    std::set<uint16_t> unbound;
    for (uint16_t q : queuesUsed(rules)) {
      const bool bound =
          std::any_of(f.first.queues.begin(), f.first.queues.end(),
                      [q](const kernel::QueueProcStats& s) { return s.queueNum == q; });
      if (!bound) unbound.insert(q);
    }
    if (!unbound.empty()) {
      const bool bypass = std::any_of(rules.begin(), rules.end(),
                                      [](const RuleFacts* r) { return r->queueBypass; });
      out.push_back(
          {"daemon_not_bound", Severity::Error,
           fmt::format("no process is bound to queue {} that the queue rules use: {}; {}",
                       joinQueues(unbound),
                       bypass ? "with bypass the control packets pass uninspected (PORT/PASV "
                                "not rewritten, no data connection admitted)"
                              : "without bypass the kernel drops the control packets (FTP "
                                "connections hang)",
                       pids.empty()
                           ? "no ftpalgd process runs"
                           : fmt::format("ftpalgd runs (pid {}) but on other queues", pids)),
           fmt::format("start ftpalgd with --queues {} (systemctl start ftpalgd), or make the "
                       "rules queue to the queues ftpalgd serves",
                       joinQueues(unbound))});
    }
  }
  for (const QueueOwner& o : f.daemon.owners) {
    if (!o.comm.empty() && o.comm != "ftpalgd") {
      out.push_back({"queue_bound_by_other", Severity::Warning,
                     fmt::format("queue {} is bound by process {} (pid {}), not ftpalgd", o.queue,
                                 o.comm, o.pid),
                     "stop that process or give ftpalgd and it different queue numbers"});
    }
  }
  if (f.daemon.controlSocketExists && !f.daemon.controlSocketAccepts) {
    out.push_back({"control_socket_stale", Severity::Warning,
                   fmt::format("the control socket {} exists but does not accept a connection "
                               "({}): `ftpalg status` cannot reach the daemon",
                               f.daemon.controlSocket, f.daemon.controlSocketError),
                   "restart ftpalgd; remove the stale socket file if no ftpalgd runs"});
  }
}

void diagnoseKernelHelper(const GatewayFacts& f, Findings& out) {
  const Ruleset& rs = f.first.ruleset;
  if (!expectationMode(rs) && queueRules(f, f.first).empty()) return;
  std::vector<std::string> evidence;
  for (const RuleFacts& r : rs.rules) {
    if (helperOf(rs, r) != "ftp") continue;
    if (std::any_of(f.settings.ports.begin(), f.settings.ports.end(),
                    [&r](uint16_t p) { return appliesToClientSide(r, p); })) {
      evidence.push_back(ruleName(r) + " attaches the kernel helper \"ftp\"");
    }
  }
  const auto n = std::count_if(
      f.first.conns.begin(), f.first.conns.end(),
      [](const kernel::ControlConnFacts& c) { return c.established && c.helper == "ftp"; });
  if (n > 0) evidence.push_back(fmt::format("{} control connection(s) carry helper=ftp", n));
  if (evidence.empty()) return;
  std::string text;
  for (const auto& e : evidence) text += (text.empty() ? "" : "; ") + e;
  out.push_back({"kernel_ftp_helper", Severity::Error,
                 fmt::format("the kernel's own FTP helper (nf_conntrack_ftp/nf_nat_ftp) is "
                             "attached to the control connections ftpalgd handles ({}): both "
                             "rewrite the same PORT/227 lines and adjust sequence numbers, which "
                             "corrupts the control connection",
                             text),
                 "remove the `ct helper set` rule (or iptables -j CT --helper ftp) for the "
                 "control ports; ftpalgd replaces the kernel helper"});
}

void diagnoseHelperAfterDnat(const GatewayFacts& f, Findings& out) {
  const Ruleset& rs = f.first.ruleset;
  for (const RuleFacts& h : rs.rules) {
    const std::string helper = helperOf(rs, h);
    const ChainFacts* hc = baseChainOf(rs, h);
    if (helper.empty() || hc == nullptr || hc->hook != NfHook::Prerouting) continue;
    for (const RuleFacts& d : rs.rules) {
      const ChainFacts* dc = baseChainOf(rs, d);
      if (!d.dnat || dc == nullptr || dc->hook != NfHook::Prerouting || isFtpalgTable(d.table) ||
          !familiesOverlap(dc->family, hc->family) || dc->priority > hc->priority) {
        continue;
      }
      out.push_back(
          {"helper_after_dnat", Severity::Warning,
           fmt::format("{} attaches the helper \"{}\" at prerouting priority {}, after the "
                       "destination NAT of {} (priority {}): on kernels without the 2025 fix for "
                       "helpers set after NAT, a DNATed control connection gets no sequence "
                       "adjustment and breaks after the first rewrite that changes a line's length",
                       ruleName(h), helper, hc->priority, ruleName(d), dc->priority),
           fmt::format("attach the helper in a chain before dstnat (priority -150, raw or "
                       "mangle), e.g. `type filter hook prerouting priority -150`")});
      break;
    }
  }
}

void diagnosePinholeTable(const GatewayFacts& f, Findings& out) {
  const Ruleset& rs = f.first.ruleset;
  if (expectationMode(rs)) return;
  const auto rules = queueRules(f, f.first);
  if (rules.empty()) return;
  const std::string name =
      f.settings.table.value_or("ftpalg_q" + std::to_string(rules.front()->queueNum));
  const bool live = liveSessions(f.first);
  const Severity sev = live ? Severity::Error : Severity::Warning;
  const std::string sessions = live ? "control sessions are live" : "no control session is live";
  const bool exists = std::any_of(rs.tables.begin(), rs.tables.end(), [&](const auto& t) {
    return t.family == "inet" && t.name == name;
  });
  if (!exists) {
    out.push_back({"pinhole_table_missing", sev,
                   fmt::format("ftpalgd's pinhole table inet {} does not exist ({}): no announced "
                               "data connection can be admitted",
                               name, sessions),
                   "restart ftpalgd (it creates the table); if it runs, check its log for the "
                   "table keeper's errors; give --table if the daemon uses another name"});
    return;
  }
  const auto chainCount = std::count_if(rs.chains.begin(), rs.chains.end(), [&](const auto& c) {
    return c.family == "inet" && c.table == name &&
           (c.name == "pin" || c.name == "pre" || c.name == "post");
  });
  const auto pinRules = std::count_if(rs.rules.begin(), rs.rules.end(), [&](const RuleFacts& r) {
    return r.family == "inet" && r.table == name && r.chain == "pin";
  });
  if (chainCount < 3 || pinRules == 0) {
    out.push_back({"pinhole_table_empty", sev,
                   fmt::format("ftpalgd's pinhole table inet {} lacks its chains or rules ({} of "
                               "3 chains, {} rules in chain pin; {}): admitted data connections "
                               "are not let through",
                               name, chainCount, pinRules, sessions),
                   "restart ftpalgd (it repairs the table at start and on every change it "
                   "notices); do not flush ftpalg's tables"});
  }
}

void diagnoseNotrack(const GatewayFacts& f, Findings& out) {
  for (const RuleFacts& r : f.first.ruleset.rules) {
    if (!r.notrack) continue;
    for (uint16_t port : f.settings.ports) {
      if (!appliesToControl(r, port)) continue;
      out.push_back({"notrack_control_port", Severity::Error,
                     fmt::format("{} disables connection tracking (notrack) for tcp port {}: "
                                 "without conntrack there is no NAT binding, no ct mark and no "
                                 "related state, so FTP data connections cannot be admitted",
                                 ruleName(r), port),
                     fmt::format("delete that rule, or exclude tcp port {} from it", port)});
      break;
    }
  }
}

void diagnoseForeignAddress(const GatewayFacts& f, Findings& out) {
  if (f.events.path.empty()) return;
  if (!f.events.readable) {
    out.push_back({"events_unreadable", Severity::Warning,
                   fmt::format("cannot read the events file {}: {}", f.events.path, f.events.error),
                   "give the path ftpalgd writes (--events, or events = in its configuration)"});
    return;
  }
  std::map<std::pair<std::string, std::string>, size_t> seen;  // (flow's server, announced)
  for (const RefusalEvent& e : f.events.refusals) {
    const bool passive = e.kind == "pasv227" || e.kind == "epsv229" || e.kind == "lpsv228";
    if (!passive || e.dir != "s2c" || !isForeignAddressReason(e.reason)) continue;
    const size_t dash = e.flow.find('-');
    const std::string server = dash == std::string::npos ? e.flow : e.flow.substr(dash + 1);
    ++seen[{server, e.announced}];
  }
  for (const auto& [key, n] : seen) {
    out.push_back(
        {"server_foreign_address", Severity::Error,
         fmt::format("the server {} announced {} in its passive reply ({} time(s) recently), an "
                     "address that is neither its own nor the one its clients dial: ftpalgd "
                     "refused it, so passive transfers to this server fail",
                     key.first, key.second, n),
         "configure the server to announce its own address (ftpalgd rewrites it for NAT) or its "
         "public one (vsftpd pasv_address, proftpd MasqueradeAddress), or set "
         "pasv_address_mismatch = rewrite_to_peer in ftpalgd's configuration"});
  }
}

void diagnoseQueueDrops(const GatewayFacts& f, Findings& out) {
  if (!f.sampledTwice) return;
  for (const auto& b : f.second.queues) {
    for (const auto& a : f.first.queues) {
      if (a.queueNum != b.queueNum || a.portId != b.portId) continue;
      const uint32_t full = kernel::counterDelta(a.queueDropped, b.queueDropped);
      const uint32_t user = kernel::counterDelta(a.userDropped, b.userDropped);
      if (full + user == 0) continue;
      out.push_back({"queue_drops", Severity::Warning,
                     fmt::format("queue {} dropped {} packet(s) during the {:.1f} s sample ({} "
                                 "queue full, {} daemon socket full): control packets are lost "
                                 "and retransmitted, FTP stalls under this load",
                                 b.queueNum, full + user, f.intervalS, full, user),
                     "raise queue_maxlen, spread the load over more queues (--queues 0-3), or "
                     "find the flood (ftpalgd's log names overload bursts)"});
    }
  }
}

Findings diagnose(const GatewayFacts& facts) {
  Findings out;
  diagnoseConntrack(facts, out);
  diagnoseQueueRules(facts, out);
  diagnoseQueueNotHit(facts, out);
  diagnoseQueueShadowed(facts, out);
  diagnoseForwardAccept(facts, out);
  diagnoseDaemon(facts, out);
  diagnoseKernelHelper(facts, out);
  diagnoseHelperAfterDnat(facts, out);
  diagnosePinholeTable(facts, out);
  diagnoseNotrack(facts, out);
  diagnoseForeignAddress(facts, out);
  diagnoseQueueDrops(facts, out);
  return out;
}

}  // namespace ftpalg::cli
