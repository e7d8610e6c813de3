// Fail-open queueing rules send rewritten control connections (conntrack mark
// QueueRuleSpec::sessionMark) to the queue without bypass, ahead of the bypass rules, in the
// nft and the iptables text (src/kernel/nfqueue/queue_rules_text.cc).
#include <gtest/gtest.h>

#include <string>

#include "ftpalg/kernel/queue_rules_text.h"
#include "tests/support/queue_rule_spec.h"

namespace ftpalg::test {
namespace {

using kernel::QueueFamily;
using kernel::QueueForm;
using kernel::QueueRuleSpec;

QueueRuleSpec marked(bool bypass) {
  QueueRuleSpec s = queueRuleSpec(0, 2, {21}, bypass);
  s.sessionMark = 0xf7a2;
  return s;
}

TEST(QueueRulesSessionMark, NftMarkedRulesComeFirstWithoutBypass) {
  EXPECT_EQ(queueRulesText(marked(true), QueueForm::Nft, QueueFamily::Inet),
            "# FTP control traffic to ftpalgd (fail-open: with no daemon, control traffic passes "
            "uninspected).\n"
            "table inet ftpalg_queue {\n"
            "\tchain forward {\n"
            "\t\ttype filter hook forward priority mangle; policy accept;\n"
            "\t\ttcp dport 21 ct mark 0xf7a2 queue num 0-1\n"
            "\t\ttcp sport 21 ct mark 0xf7a2 queue num 0-1\n"
            "\t\ttcp dport 21 queue num 0-1 bypass\n"
            "\t\ttcp sport 21 queue num 0-1 bypass\n"
            "\t}\n"
            "}\n");
}

TEST(QueueRulesSessionMark, IptablesMarkedRulesComeFirstWithoutBypass) {
  EXPECT_EQ(queueRulesText(marked(true), QueueForm::Iptables, QueueFamily::Ip),
            "# FTP control traffic to ftpalgd (fail-open: with no daemon, control traffic passes "
            "uninspected).\n"
            "iptables -t mangle -A FORWARD -p tcp --dport 21 -m connmark --mark 0xf7a2 -j NFQUEUE "
            "--queue-balance 0:1\n"
            "iptables -t mangle -A FORWARD -p tcp --sport 21 -m connmark --mark 0xf7a2 -j NFQUEUE "
            "--queue-balance 0:1\n"
            "iptables -t mangle -A FORWARD -p tcp --dport 21 -j NFQUEUE --queue-balance 0:1 "
            "--queue-bypass\n"
            "iptables -t mangle -A FORWARD -p tcp --sport 21 -j NFQUEUE --queue-balance 0:1 "
            "--queue-bypass\n");
}

TEST(QueueRulesSessionMark, IptablesMultiportAndBothFamilies) {
  QueueRuleSpec s = marked(true);
  s.ports = {21, 2121};
  const std::string t = queueRulesText(s, QueueForm::Iptables, QueueFamily::Inet);
  EXPECT_NE(t.find("ip6tables -t mangle -A FORWARD -p tcp -m multiport --dports 21,2121 -m "
                   "connmark --mark 0xf7a2 -j NFQUEUE --queue-balance 0:1\n"),
            std::string::npos);
  EXPECT_LT(t.find("connmark"), t.find("--queue-bypass"));
}

// Fail-closed rules have no bypass to escape from: no extra rules; nor with sessionMark 0.
TEST(QueueRulesSessionMark, OnlyWithBypassAndAMark) {
  EXPECT_EQ(queueRulesText(marked(false), QueueForm::Nft, QueueFamily::Inet),
            queueRulesText(queueRuleSpec(0, 2, {21}, false), QueueForm::Nft, QueueFamily::Inet));
  QueueRuleSpec none = marked(true);
  none.sessionMark = 0;
  EXPECT_EQ(queueRulesText(none, QueueForm::Iptables, QueueFamily::Inet).find("connmark"),
            std::string::npos);
}

}  // namespace
}  // namespace ftpalg::test
