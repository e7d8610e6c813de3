// Every `ftpalg check` diagnosis on hand-built facts: the healthy gateway (what `ftpalg rules`
// and the e2e suite build) gives no finding; each broken variant gives its finding.
#include "cli/check_diagnose.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ftpalg::test {
namespace {

using cli::Finding;
using cli::Findings;
using cli::GatewayFacts;
using cli::Severity;
using kernel::ChainFacts;
using kernel::NfHook;
using kernel::RuleFacts;
using kernel::RuleVerdict;

RuleFacts rule(std::string family, std::string table, std::string chain, uint64_t handle) {
  RuleFacts r;
  r.family = std::move(family);
  r.table = std::move(table);
  r.chain = std::move(chain);
  r.handle = handle;
  return r;
}

RuleFacts queueRule(std::string family, uint64_t handle, bool dport) {
  RuleFacts r = rule(std::move(family), "mangle", "FORWARD", handle);
  r.tcp = true;
  (dport ? r.dports : r.sports) = std::vector<kernel::PortRange>{{21, 21}};
  r.verdict = RuleVerdict::Queue;
  r.queueNum = 0;
  r.compatQueue = true;
  r.packets = 10;
  return r;
}

kernel::ControlConnFacts liveConn(uint32_t timeout) {
  kernel::ControlConnFacts c;
  c.client = "198.18.1.2";
  c.dialled = "198.19.1.2";
  c.server = "198.19.1.2";
  c.clientPort = 40000;
  c.port = 21;
  c.established = true;
  c.timeoutS = timeout;
  return c;
}

// The healthy gateway: iptables-nft queue rules (ip and ip6), table inet e2e with a policy-drop
// forward chain admitting ct mark 0xf7a1, ftpalgd's pinhole table, queue 0 bound by ftpalgd.
GatewayFacts healthy() {
  GatewayFacts f;
  f.conntrack = {true, 10, 262144};
  kernel::Ruleset& rs = f.first.ruleset;
  for (const char* fam : {"ip", "ip6"}) {
    rs.tables.push_back({fam, "mangle", ""});
    rs.chains.push_back({fam, "mangle", "FORWARD", NfHook::Forward, -150, "filter", false});
    rs.rules.push_back(queueRule(fam, 2, true));
    rs.rules.push_back(queueRule(fam, 3, false));
  }
  rs.tables.push_back({"inet", "e2e", ""});
  rs.chains.push_back({"inet", "e2e", "forward", NfHook::Forward, 0, "filter", true});
  rs.chains.push_back({"inet", "e2e", "natpre", NfHook::Prerouting, -100, "nat", false});
  RuleFacts est = rule("inet", "e2e", "forward", 10);
  est.ctStates = kernel::kCtStateEstablished;
  est.verdict = RuleVerdict::Accept;
  rs.rules.push_back(est);
  RuleFacts mark = rule("inet", "e2e", "forward", 11);
  mark.ctMark = 0xf7a1;
  mark.verdict = RuleVerdict::Accept;
  rs.rules.push_back(mark);
  RuleFacts newCtl = rule("inet", "e2e", "forward", 12);
  newCtl.ctStates = kernel::kCtStateNew;
  newCtl.tcp = true;
  newCtl.dports = std::vector<kernel::PortRange>{{21, 21}};
  newCtl.verdict = RuleVerdict::Accept;
  rs.rules.push_back(newCtl);
  rs.tables.push_back({"inet", "ftpalg_q0", "ftpalgd pinholes, layout 1"});
  rs.chains.push_back({"inet", "ftpalg_q0", "pre", NfHook::Prerouting, -105, "nat", false});
  rs.chains.push_back({"inet", "ftpalg_q0", "pin", NfHook::Forward, -5, "filter", false});
  rs.chains.push_back({"inet", "ftpalg_q0", "post", NfHook::Postrouting, 95, "nat", false});
  RuleFacts pinDnat = rule("inet", "ftpalg_q0", "pre", 20);
  pinDnat.dnat = true;
  rs.rules.push_back(pinDnat);
  RuleFacts pin = rule("inet", "ftpalg_q0", "pin", 21);
  pin.ctStates = kernel::kCtStateNew;
  pin.otherCondition = true;
  pin.ctMarkSet = 0xf7a1;
  pin.verdict = RuleVerdict::Accept;
  rs.rules.push_back(pin);
  kernel::QueueProcStats q;
  q.queueNum = 0;
  q.portId = 4242;
  q.idSequence = 100;
  f.first.queues.push_back(q);
  f.first.conns.push_back(liveConn(432000));
  f.first.connsRead = true;
  f.second = f.first;
  for (RuleFacts& r : f.second.ruleset.rules) {
    if (r.verdict == RuleVerdict::Queue) r.packets = 20;
  }
  f.second.queues[0].idSequence = 110;
  f.sampledTwice = true;
  f.intervalS = 1.5;
  f.daemon.owners.push_back({0, 4242, 77, "ftpalgd"});
  f.daemon.ftpalgdPids = {77};
  return f;
}

bool has(const Findings& fs, std::string_view id, Severity sev) {
  return std::any_of(fs.begin(), fs.end(),
                     [&](const Finding& f) { return f.id == id && f.severity == sev; });
}

std::string ids(const Findings& fs) {
  std::string out;
  for (const Finding& f : fs) out += f.id + " ";
  return out;
}

// Removes the rules of `rs` for which pred holds.
template <typename Pred>
void eraseRules(kernel::Ruleset& rs, Pred pred) {
  rs.rules.erase(std::remove_if(rs.rules.begin(), rs.rules.end(), pred), rs.rules.end());
}

TEST(CheckDiagnose, HealthyGatewayHasNoFinding) {
  const Findings fs = cli::diagnose(healthy());
  EXPECT_TRUE(fs.empty()) << ids(fs);
  EXPECT_EQ(cli::exitStatus(fs), cli::kExitHealthy);
}

TEST(CheckDiagnose, ConntrackMissingOrFull) {
  GatewayFacts f = healthy();
  f.conntrack.present = false;
  EXPECT_TRUE(has(cli::diagnose(f), "conntrack_unavailable", Severity::Error));
  f.conntrack = {true, 240000, 262144};
  EXPECT_TRUE(has(cli::diagnose(f), "conntrack_table_full", Severity::Warning));
}

TEST(CheckDiagnose, NoQueueRule) {
  GatewayFacts f = healthy();
  eraseRules(f.first.ruleset, [](const RuleFacts& r) { return r.verdict == RuleVerdict::Queue; });
  const Findings fs = cli::diagnose(f);
  EXPECT_TRUE(has(fs, "no_queue_rule", Severity::Error)) << ids(fs);
  EXPECT_EQ(cli::exitStatus(fs), cli::kExitFtpBroken);
}

TEST(CheckDiagnose, QueueRuleInInputChainDoesNotCount) {
  GatewayFacts f = healthy();
  for (ChainFacts& c : f.first.ruleset.chains) {
    if (c.table == "mangle") c.hook = NfHook::Input;
  }
  EXPECT_TRUE(has(cli::diagnose(f), "no_queue_rule", Severity::Error));
}

TEST(CheckDiagnose, QueueRuleOneDirection) {
  GatewayFacts f = healthy();
  eraseRules(f.first.ruleset, [](const RuleFacts& r) { return r.sports.has_value(); });
  EXPECT_TRUE(has(cli::diagnose(f), "queue_rule_one_direction", Severity::Error));
}

TEST(CheckDiagnose, QueueRuleOnAnotherPortIsNoQueueRule) {
  GatewayFacts f = healthy();
  for (RuleFacts& r : f.first.ruleset.rules) {
    if (r.dports && r.verdict == RuleVerdict::Queue) r.dports = {{{2121, 2121}}};
    if (r.sports && r.verdict == RuleVerdict::Queue) r.sports = {{{2121, 2121}}};
  }
  EXPECT_TRUE(has(cli::diagnose(f), "no_queue_rule", Severity::Error));
  f.settings.ports = {21, 2121};
  EXPECT_TRUE(has(cli::diagnose(f), "no_queue_rule", Severity::Error));  // still none for 21
}

TEST(CheckDiagnose, QueueRuleNotHitWhileTrafficFlows) {
  GatewayFacts f = healthy();
  for (RuleFacts& r : f.second.ruleset.rules) r.packets = r.verdict == RuleVerdict::Queue ? 10 : 0;
  f.second.queues[0].idSequence = 100;
  EXPECT_TRUE(has(cli::diagnose(f), "queue_rule_not_hit", Severity::Error));
  // The connection's timeout ran down: no packet flowed, nothing to say.
  f.second.conns[0].timeoutS = 431998;
  EXPECT_FALSE(has(cli::diagnose(f), "queue_rule_not_hit", Severity::Error));
  // One sample only: not diagnosed.
  f.second.conns[0].timeoutS = 432000;
  f.sampledTwice = false;
  EXPECT_FALSE(has(cli::diagnose(f), "queue_rule_not_hit", Severity::Error));
}

TEST(CheckDiagnose, QueueRuleHitByQueueIdAlone) {
  GatewayFacts f = healthy();  // ftpalgd --install-rules rules carry no counter
  for (auto* s : {&f.first, &f.second}) {
    for (RuleFacts& r : s->ruleset.rules) r.packets.reset();
  }
  EXPECT_FALSE(has(cli::diagnose(f), "queue_rule_not_hit", Severity::Error));
  f.second.queues[0].idSequence = 100;
  EXPECT_TRUE(has(cli::diagnose(f), "queue_rule_not_hit", Severity::Error));
}

TEST(CheckDiagnose, QueueRuleShadowedInItsChain) {
  GatewayFacts f = healthy();
  RuleFacts acc = rule("ip", "mangle", "FORWARD", 1);
  acc.tcp = true;
  acc.dports = std::vector<kernel::PortRange>{{21, 21}};
  acc.ctStates = kernel::kCtStateEstablished;
  acc.verdict = RuleVerdict::Accept;
  auto& rules = f.first.ruleset.rules;
  rules.insert(rules.begin(), acc);
  const Findings fs = cli::diagnose(f);
  ASSERT_TRUE(has(fs, "queue_rule_shadowed", Severity::Error)) << ids(fs);
  EXPECT_NE(fs[0].what.find("ct state established"), std::string::npos) << fs[0].what;
}

TEST(CheckDiagnose, QueueRuleShadowedByEarlierChainDrop) {
  GatewayFacts f = healthy();
  f.first.ruleset.chains.push_back({"inet", "early", "fw", NfHook::Forward, -200, "filter", false});
  RuleFacts drop = rule("inet", "early", "fw", 5);
  drop.tcp = true;
  drop.sports = std::vector<kernel::PortRange>{{1, 1023}};
  drop.verdict = RuleVerdict::Drop;
  f.first.ruleset.rules.push_back(drop);
  EXPECT_TRUE(has(cli::diagnose(f), "queue_rule_shadowed", Severity::Error));
  // An accept in an earlier base chain does not end the later chains.
  f.first.ruleset.rules.back().verdict = RuleVerdict::Accept;
  EXPECT_FALSE(has(cli::diagnose(f), "queue_rule_shadowed", Severity::Error));
}

TEST(CheckDiagnose, ConditionalOrLaterRulesDoNotShadow) {
  GatewayFacts f = healthy();
  RuleFacts acc = rule("ip", "mangle", "FORWARD", 9);
  acc.otherCondition = true;  // ip saddr ...
  acc.verdict = RuleVerdict::Drop;
  auto& rules = f.first.ruleset.rules;
  rules.insert(rules.begin(), acc);
  RuleFacts invalid = rule("ip", "mangle", "FORWARD", 8);
  invalid.ctStates = kernel::kCtStateInvalid;
  invalid.verdict = RuleVerdict::Drop;
  rules.insert(rules.begin(), invalid);
  RuleFacts after = rule("ip", "mangle", "FORWARD", 4);
  after.verdict = RuleVerdict::Drop;
  rules.insert(rules.begin() + 4, after);  // after both ip queue rules
  const Findings fs = cli::diagnose(f);
  EXPECT_FALSE(has(fs, "queue_rule_shadowed", Severity::Error)) << ids(fs);
}

TEST(CheckDiagnose, ForwardLacksMarkAccept) {
  GatewayFacts f = healthy();
  eraseRules(f.first.ruleset, [](const RuleFacts& r) { return r.table == "e2e" && r.ctMark; });
  const Findings fs = cli::diagnose(f);
  ASSERT_TRUE(has(fs, "forward_no_mark_accept", Severity::Error)) << ids(fs);
  EXPECT_NE(fs[0].fix.find("ct mark 0x0000f7a1 accept"), std::string::npos);
}

TEST(CheckDiagnose, ForwardMarkTakenFromPinholeTable) {
  GatewayFacts f = healthy();
  for (RuleFacts& r : f.first.ruleset.rules) {
    if (r.chain == "pin") r.ctMarkSet = 0x42;
  }
  EXPECT_TRUE(has(cli::diagnose(f), "forward_no_mark_accept", Severity::Error));
  f.settings.mark = 0xf7a1;  // the admin says which
  EXPECT_FALSE(has(cli::diagnose(f), "forward_no_mark_accept", Severity::Error));
}

TEST(CheckDiagnose, ForwardMarkAcceptInJumpedChain) {
  GatewayFacts f = healthy();
  for (RuleFacts& r : f.first.ruleset.rules) {
    if (r.table == "e2e" && r.ctMark) r.chain = "admitted";
  }
  f.first.ruleset.chains.push_back({"inet", "e2e", "admitted", NfHook::None, 0, "", false});
  RuleFacts jump = rule("inet", "e2e", "forward", 30);
  jump.verdict = RuleVerdict::Jump;
  jump.jumpTarget = "admitted";
  f.first.ruleset.rules.push_back(jump);
  EXPECT_FALSE(has(cli::diagnose(f), "forward_no_mark_accept", Severity::Error));
}

// Expectation mode: a ct helper object of type "ftpalg", no queue rule needed.
GatewayFacts expectationGateway() {
  GatewayFacts f = healthy();
  auto& rs = f.first.ruleset;
  eraseRules(rs, [](const RuleFacts& r) {
    return r.verdict == RuleVerdict::Queue || r.table == "ftpalg_q0" || r.ctMark;
  });
  rs.helpers.push_back({"inet", "ftpalg_helper", "ftpalg-ftp", "ftpalg"});
  rs.chains.push_back({"inet", "ftpalg_helper", "pre", NfHook::Prerouting, -150, "filter", false});
  RuleFacts set = rule("inet", "ftpalg_helper", "pre", 2);
  set.tcp = true;
  set.dports = std::vector<kernel::PortRange>{{21, 21}};
  set.ctHelperObject = "ftpalg-ftp";
  rs.rules.push_back(set);
  RuleFacts rel = rule("inet", "e2e", "forward", 40);
  rel.ctStates = kernel::kCtStateRelated;
  rel.verdict = RuleVerdict::Accept;
  rs.rules.push_back(rel);
  return f;
}

TEST(CheckDiagnose, ExpectationModeHealthyAndLackingRelated) {
  GatewayFacts f = expectationGateway();
  EXPECT_TRUE(cli::diagnose(f).empty()) << ids(cli::diagnose(f));
  eraseRules(f.first.ruleset, [](const RuleFacts& r) { return r.handle == 40; });
  EXPECT_TRUE(has(cli::diagnose(f), "forward_no_related_accept", Severity::Error));
  f.daemon.ftpalgdPids.clear();
  EXPECT_TRUE(has(cli::diagnose(f), "daemon_not_running", Severity::Error));
}

TEST(CheckDiagnose, DaemonNotBound) {
  GatewayFacts f = healthy();
  f.first.queues.clear();
  f.second.queues.clear();
  f.daemon.owners.clear();
  f.daemon.ftpalgdPids.clear();
  Findings fs = cli::diagnose(f);
  ASSERT_TRUE(has(fs, "daemon_not_bound", Severity::Error)) << ids(fs);
  EXPECT_NE(fs[0].what.find("drops"), std::string::npos) << fs[0].what;
  for (RuleFacts& r : f.first.ruleset.rules) r.queueBypass = r.verdict == RuleVerdict::Queue;
  fs = cli::diagnose(f);
  EXPECT_NE(fs[0].what.find("uninspected"), std::string::npos) << fs[0].what;
}

TEST(CheckDiagnose, QueueBoundToAnotherQueueOrProcess) {
  GatewayFacts f = healthy();
  f.first.queues[0].queueNum = 1;  // ftpalgd serves queue 1, the rules use 0
  EXPECT_TRUE(has(cli::diagnose(f), "daemon_not_bound", Severity::Error));
  f = healthy();
  f.daemon.owners[0].comm = "nfq-test";
  EXPECT_TRUE(has(cli::diagnose(f), "queue_bound_by_other", Severity::Warning));
}

TEST(CheckDiagnose, ControlSocketStale) {
  GatewayFacts f = healthy();
  f.daemon.controlSocket = "/run/ftpalg/control.sock";
  f.daemon.controlSocketExists = true;
  f.daemon.controlSocketError = "Connection refused";
  const Findings fs = cli::diagnose(f);
  EXPECT_TRUE(has(fs, "control_socket_stale", Severity::Warning));
  EXPECT_EQ(cli::exitStatus(fs), cli::kExitHealthy);  // a warning alone
  f.daemon.controlSocketAccepts = true;
  EXPECT_TRUE(cli::diagnose(f).empty());
}

TEST(CheckDiagnose, KernelFtpHelperByRuleOrByConnection) {
  GatewayFacts f = healthy();
  auto& rs = f.first.ruleset;
  rs.helpers.push_back({"inet", "e2e", "ftp-std", "ftp"});
  rs.chains.push_back({"inet", "e2e", "helper", NfHook::Prerouting, -150, "filter", false});
  RuleFacts set = rule("inet", "e2e", "helper", 50);
  set.tcp = true;
  set.dports = std::vector<kernel::PortRange>{{21, 21}};
  set.ctStates = kernel::kCtStateNew;
  set.ctHelperObject = "ftp-std";
  rs.rules.push_back(set);
  EXPECT_TRUE(has(cli::diagnose(f), "kernel_ftp_helper", Severity::Error));
  f = healthy();
  f.first.conns[0].helper = "ftp";
  EXPECT_TRUE(has(cli::diagnose(f), "kernel_ftp_helper", Severity::Error));
  f.first.conns[0].established = false;  // a closed connection says nothing
  EXPECT_FALSE(has(cli::diagnose(f), "kernel_ftp_helper", Severity::Error));
  f = healthy();  // xt CT --helper ftp
  RuleFacts ct = rule("ip", "mangle", "FORWARD", 60);
  ct.tcp = true;
  ct.dports = std::vector<kernel::PortRange>{{21, 21}};
  ct.ctHelperName = "ftp";
  f.first.ruleset.rules.push_back(ct);
  EXPECT_TRUE(has(cli::diagnose(f), "kernel_ftp_helper", Severity::Error));
}

TEST(CheckDiagnose, HelperAfterDnat) {
  GatewayFacts f = expectationGateway();
  auto& rs = f.first.ruleset;
  RuleFacts dnat = rule("inet", "e2e", "natpre", 70);
  dnat.dnat = true;
  dnat.otherCondition = true;
  rs.rules.push_back(dnat);
  EXPECT_FALSE(has(cli::diagnose(f), "helper_after_dnat", Severity::Warning));  // -150 < -100
  for (ChainFacts& c : rs.chains) {
    if (c.table == "ftpalg_helper") c.priority = 0;
  }
  EXPECT_TRUE(has(cli::diagnose(f), "helper_after_dnat", Severity::Warning));
}

TEST(CheckDiagnose, PinholeTableMissingOrEmpty) {
  GatewayFacts f = healthy();
  auto& rs = f.first.ruleset;
  eraseRules(rs, [](const RuleFacts& r) { return r.chain == "pin"; });
  EXPECT_TRUE(has(cli::diagnose(f), "pinhole_table_empty", Severity::Error));
  rs.tables.erase(std::remove_if(rs.tables.begin(), rs.tables.end(),
                                 [](const auto& t) { return t.name == "ftpalg_q0"; }),
                  rs.tables.end());
  EXPECT_TRUE(has(cli::diagnose(f), "pinhole_table_missing", Severity::Error));
  f.first.conns.clear();  // no live session: a warning
  EXPECT_TRUE(has(cli::diagnose(f), "pinhole_table_missing", Severity::Warning));
  f = healthy();
  f.settings.table = "custom";
  EXPECT_TRUE(has(cli::diagnose(f), "pinhole_table_missing", Severity::Error));
}

TEST(CheckDiagnose, NotrackOnControlPort) {
  GatewayFacts f = healthy();
  f.first.ruleset.chains.push_back(
      {"ip", "raw", "PREROUTING", NfHook::Prerouting, -300, "filter", false});
  RuleFacts nt = rule("ip", "raw", "PREROUTING", 80);
  nt.tcp = true;
  nt.dports = std::vector<kernel::PortRange>{{20, 22}};
  nt.notrack = true;
  f.first.ruleset.rules.push_back(nt);
  EXPECT_TRUE(has(cli::diagnose(f), "notrack_control_port", Severity::Error));
  f.first.ruleset.rules.back().dports = std::vector<kernel::PortRange>{{53, 53}};
  EXPECT_FALSE(has(cli::diagnose(f), "notrack_control_port", Severity::Error));
}

TEST(CheckDiagnose, ServerForeignAddressFromRefusals) {
  GatewayFacts f = healthy();
  f.events.path = "/var/log/ftpalg/events.jsonl";
  f.events.readable = true;
  f.events.refusals = {
      {"198.18.1.2:40000-198.19.1.2:21", "s2c", "pasv227", "bounce_address", "198.19.2.3:40001"},
      {"198.18.1.2:40002-198.19.1.2:21", "s2c", "pasv227", "pasv_address_mismatch",
       "198.19.2.3:40001"},
      {"198.18.1.2:40000-198.19.1.2:21", "c2s", "port", "bounce_address", "198.19.2.3:40001"},
      {"198.18.1.2:40000-198.19.1.2:21", "s2c", "epsv229", "family_mismatch", "[::1]:1"},
  };
  const Findings fs = cli::diagnose(f);
  ASSERT_EQ(fs.size(), 1u) << ids(fs);
  EXPECT_EQ(fs[0].id, "server_foreign_address");
  EXPECT_NE(fs[0].what.find("198.19.1.2:21 announced 198.19.2.3:40001 in its passive reply (2 "),
            std::string::npos)
      << fs[0].what;
  f.events.readable = false;
  f.events.error = "No such file or directory";
  EXPECT_TRUE(has(cli::diagnose(f), "events_unreadable", Severity::Warning));
}

TEST(CheckDiagnose, QueueDropsGrowing) {
  GatewayFacts f = healthy();
  f.second.queues[0].queueDropped = 5;
  f.second.queues[0].userDropped = 2;
  const Findings fs = cli::diagnose(f);
  ASSERT_TRUE(has(fs, "queue_drops", Severity::Warning)) << ids(fs);
  EXPECT_NE(fs[0].what.find("dropped 7 packet(s)"), std::string::npos) << fs[0].what;
  // A counter that wrapped still counts its growth.
  f.first.queues[0].queueDropped = UINT32_MAX;
  f.second.queues[0].queueDropped = 1;
  f.second.queues[0].userDropped = 0;
  EXPECT_TRUE(has(cli::diagnose(f), "queue_drops", Severity::Warning));
  // A new daemon (another port id) restarts the counters: not growth.
  f.second.queues[0].portId = 1;
  EXPECT_FALSE(has(cli::diagnose(f), "queue_drops", Severity::Warning));
}

}  // namespace
}  // namespace ftpalg::test
