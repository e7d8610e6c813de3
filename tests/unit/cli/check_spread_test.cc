// `ftpalg check` on a gateway whose queue rules spread connections over queues 160-161
// (spread_connections; queue_rules_text.h, "Spreading connections"): the rules ftpalgd installs,
// decoded from the very messages it sends, and the HMARK form `ftpalg rules` prints. A healthy
// spread gateway gives no finding; the diagnoses name the spread's queues.
#include <gtest/gtest.h>
#include <libnftnl/rule.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/check_diagnose.h"
#include "kernel/nftables/queue_rule_messages.h"
#include "kernel/nftables/rule_decoder.h"
#include "tests/support/queue_rule_spec.h"
#include "tests/unit/kernel/nftables/nft_message_reader.h"

namespace ftpalg::test {
namespace {

using cli::Findings;
using cli::GatewayFacts;
using kernel::NfHook;
using kernel::QueueForm;
using kernel::RuleFacts;
using kernel::RuleVerdict;

// The rules (and their tables and chains) ftpalgd --install-rules --spread-connections
// --queues 160-161 adds in `form`, as check reads them back.
void addInstalledRules(kernel::Ruleset& rs, QueueForm form) {
  kernel::QueueRuleSpec spec = queueRuleSpec(160, 2, {21}, true);
  spec.spreadConnections = true;
  spec.sessionMark = 0xf7a2;
  spec.ackBypass = true;
  std::vector<char> buf(64 * 1024);
  kernel::nft::NftBatch batch(buf, 100);
  ASSERT_TRUE(kernel::nft::appendQueueRules(batch, spec, form, "test"));
  ASSERT_TRUE(batch.finish());
  for (const uint16_t family : kernel::nft::queueFamilies(form)) {
    const std::string fam = kernel::nft::familyName(family);
    rs.tables.push_back({fam, "ftpalg_queue", ""});
    rs.chains.push_back({fam, "ftpalg_queue", "forward", NfHook::Forward, -150, "filter", false});
  }
  uint64_t handle = 2;
  for (const nlmsghdr* nlh : batchMessages(batch)) {
    if (nlh->nlmsg_type != nftMsgType(NFT_MSG_NEWRULE)) continue;
    nftnl_rule* r = nftnl_rule_alloc();
    ASSERT_EQ(nftnl_rule_nlmsg_parse(nlh, r), 0);
    rs.rules.push_back(kernel::nft::decodeRule(r, kernel::nft::familyName(nfgenFamily(nlh)), {}));
    rs.rules.back().handle = handle++;
    nftnl_rule_free(r);
  }
}

// iptables -t mangle, as `ftpalg rules --spread-connections --queues 160-161 --queue-form
// iptables` prints it (ack bypass and marked rules left out): HMARK per direction, then one
// `-m mark --mark Q -j NFQUEUE --queue-num Q` rule per queue and direction.
void addHmarkRules(kernel::Ruleset& rs) {
  uint64_t handle = 2;
  for (const char* fam : {"ip", "ip6"}) {
    rs.tables.push_back({fam, "mangle", ""});
    rs.chains.push_back({fam, "mangle", "FORWARD", NfHook::Forward, -150, "filter", false});
    for (bool dport : {true, false}) {
      RuleFacts h;
      h.family = fam;
      h.table = "mangle";
      h.chain = "FORWARD";
      h.handle = handle++;
      h.tcp = true;
      (dport ? h.dports : h.sports) = std::vector<kernel::PortRange>{{21, 21}};
      h.packetMarkSet = kernel::ConnHash{true, 2, 160};
      rs.rules.push_back(h);
      for (const uint16_t q : {uint16_t{160}, uint16_t{161}}) {
        RuleFacts r = h;
        r.handle = handle++;
        r.packetMarkSet.reset();
        r.packetMark = q;
        r.otherCondition = true;
        r.verdict = RuleVerdict::Queue;
        r.compatQueue = true;
        r.queueNum = q;
        rs.rules.push_back(r);
      }
    }
  }
}

// A healthy pinhole gateway around `rules`: forward chain admitting the mark, ftpalgd's pinhole
// table inet ftpalg_q160, queues 160 and 161 bound by ftpalgd and moving, a live session.
GatewayFacts healthySpread(void (*rules)(kernel::Ruleset&)) {
  GatewayFacts f;
  f.conntrack = {true, 10, 262144};
  kernel::Ruleset& rs = f.first.ruleset;
  rules(rs);
  rs.tables.push_back({"inet", "fw", ""});
  rs.chains.push_back({"inet", "fw", "forward", NfHook::Forward, 0, "filter", true});
  RuleFacts mark;
  mark.family = "inet";
  mark.table = "fw";
  mark.chain = "forward";
  mark.handle = 90;
  mark.ctMark = 0xf7a1;
  mark.verdict = RuleVerdict::Accept;
  rs.rules.push_back(mark);
  rs.tables.push_back({"inet", "ftpalg_q160", "ftpalgd pinholes, layout 1"});
  rs.chains.push_back({"inet", "ftpalg_q160", "pre", NfHook::Prerouting, -105, "nat", false});
  rs.chains.push_back({"inet", "ftpalg_q160", "pin", NfHook::Forward, -5, "filter", false});
  rs.chains.push_back({"inet", "ftpalg_q160", "post", NfHook::Postrouting, 95, "nat", false});
  RuleFacts pin = mark;
  pin.table = "ftpalg_q160";
  pin.chain = "pin";
  pin.handle = 91;
  pin.ctMark.reset();
  pin.ctMarkSet = 0xf7a1;
  pin.otherCondition = true;
  rs.rules.push_back(pin);
  for (const uint16_t q : {uint16_t{160}, uint16_t{161}}) {
    kernel::QueueProcStats s;
    s.queueNum = q;
    s.portId = 4000u + q;
    s.idSequence = 100;
    f.first.queues.push_back(s);
    f.daemon.owners.push_back({q, s.portId, 77, "ftpalgd"});
  }
  f.daemon.ftpalgdPids = {77};
  kernel::ControlConnFacts c;
  c.client = "198.18.1.2";
  c.dialled = c.server = "198.19.1.2";
  c.clientPort = 40000;
  c.port = 21;
  c.established = true;
  c.timeoutS = 432000;
  f.first.conns.push_back(c);
  f.first.connsRead = true;
  f.second = f.first;
  f.second.queues[1].idSequence = 120;  // the session hashed onto 161
  f.sampledTwice = true;
  f.intervalS = 1.5;
  return f;
}

std::string ids(const Findings& fs) {
  std::string out;
  for (const auto& f : fs) out += f.id + " ";
  return out;
}

const cli::Finding* find(const Findings& fs, std::string_view id) {
  const auto it = std::find_if(fs.begin(), fs.end(), [id](const auto& f) { return f.id == id; });
  return it == fs.end() ? nullptr : &*it;
}

void addNftRules(kernel::Ruleset& rs) { addInstalledRules(rs, QueueForm::Nft); }
void addCompatRules(kernel::Ruleset& rs) { addInstalledRules(rs, QueueForm::Iptables); }

// nft `queue to symhash mod 2 offset 160`: read as queues 160-161, not as queue 0 (which gave
// daemon_not_bound for queue 0, pinhole_table_missing for ftpalg_q0 and queue_rule_not_hit).
TEST(CheckSpread, HealthyNftSpreadHasNoFinding) {
  const Findings fs = cli::diagnose(healthySpread(addNftRules));
  EXPECT_TRUE(fs.empty()) << ids(fs);
}

// `symhash mod 2 == slot`: the slot compare is not a port compare (read as `tcp dport 0`, it
// gave no_queue_rule).
TEST(CheckSpread, HealthyCompatSpreadHasNoFinding) {
  const Findings fs = cli::diagnose(healthySpread(addCompatRules));
  EXPECT_TRUE(fs.empty()) << ids(fs);
}

TEST(CheckSpread, HealthyHmarkSpreadHasNoFinding) {
  const Findings fs = cli::diagnose(healthySpread(addHmarkRules));
  EXPECT_TRUE(fs.empty()) << ids(fs);
}

// With no daemon bound, each form names both queues of the spread.
TEST(CheckSpread, UnboundNamesEveryQueueOfTheSpread) {
  for (auto* rules : {addNftRules, addCompatRules, addHmarkRules}) {
    GatewayFacts f = healthySpread(rules);
    f.first.queues.clear();
    f.second.queues.clear();
    f.daemon = {};
    const Findings fs = cli::diagnose(f);
    const cli::Finding* nb = find(fs, "daemon_not_bound");
    ASSERT_NE(nb, nullptr) << ids(fs);
    EXPECT_NE(nb->what.find("queue 160,161 "), std::string::npos) << nb->what;
  }
}

}  // namespace
}  // namespace ftpalg::test
