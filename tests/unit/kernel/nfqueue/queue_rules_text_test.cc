#include "ftpalg/kernel/queue_rules_text.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "kernel/nftables/rules_text.h"
#include "tests/support/queue_rule_spec.h"

namespace ftpalg::test {

using namespace ftpalg::kernel;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

TEST(QueueRulesText, NftOneQueueOnePort) {
  EXPECT_EQ(queueRulesText(queueRuleSpec(0, 1, {21}, false), QueueForm::Nft, QueueFamily::Inet),
            "# FTP control traffic to ftpalgd (fail-closed: with no daemon, control traffic is "
            "dropped).\n"
            "table inet ftpalg_queue {\n"
            "\tchain forward {\n"
            "\t\ttype filter hook forward priority mangle; policy accept;\n"
            "\t\ttcp dport 21 queue num 0\n"
            "\t\ttcp sport 21 queue num 0\n"
            "\t}\n"
            "}\n");
}

TEST(QueueRulesText, NftBalanceBypassPorts) {
  const std::string t =
      queueRulesText(queueRuleSpec(2, 3, {21, 2121}, true), QueueForm::Nft, QueueFamily::Inet);
  EXPECT_NE(t.find("(fail-open: with no daemon, control traffic passes uninspected)"),
            std::string::npos);
  EXPECT_NE(t.find("\t\ttcp dport { 21, 2121 } queue num 2-4 bypass\n"), std::string::npos);
  EXPECT_NE(t.find("\t\ttcp sport { 21, 2121 } queue num 2-4 bypass\n"), std::string::npos);
  // Balanced by the symmetric hash, never by CPU.
  EXPECT_EQ(t.find("fanout"), std::string::npos);
}

TEST(QueueRulesText, NftFamilies) {
  const QueueRuleSpec s = queueRuleSpec(0, 1, {21}, false);
  EXPECT_NE(queueRulesText(s, QueueForm::Nft, QueueFamily::Ip).find("table ip ftpalg_queue {\n"),
            std::string::npos);
  EXPECT_NE(queueRulesText(s, QueueForm::Nft, QueueFamily::Ip6).find("table ip6 ftpalg_queue {\n"),
            std::string::npos);
}

TEST(QueueRulesText, IptablesOneQueue) {
  EXPECT_EQ(
      queueRulesText(queueRuleSpec(0, 1, {21}, false), QueueForm::Iptables, QueueFamily::Inet),
      "# FTP control traffic to ftpalgd (fail-closed: with no daemon, control traffic is "
      "dropped).\n"
      "iptables -t mangle -A FORWARD -p tcp --dport 21 -j NFQUEUE --queue-num 0\n"
      "iptables -t mangle -A FORWARD -p tcp --sport 21 -j NFQUEUE --queue-num 0\n"
      "ip6tables -t mangle -A FORWARD -p tcp --dport 21 -j NFQUEUE --queue-num 0\n"
      "ip6tables -t mangle -A FORWARD -p tcp --sport 21 -j NFQUEUE --queue-num 0\n");
}

TEST(QueueRulesText, IptablesBalanceBypassMultiport) {
  const std::string t =
      queueRulesText(queueRuleSpec(0, 2, {21, 2121}, true), QueueForm::Iptables, QueueFamily::Inet);
  EXPECT_NE(t.find("iptables -t mangle -A FORWARD -p tcp -m multiport --dports 21,2121 -j "
                   "NFQUEUE --queue-balance 0:1 --queue-bypass\n"),
            std::string::npos);
  EXPECT_NE(t.find("ip6tables -t mangle -A FORWARD -p tcp -m multiport --sports 21,2121 -j "
                   "NFQUEUE --queue-balance 0:1 --queue-bypass\n"),
            std::string::npos);
  EXPECT_EQ(t.find("--queue-num"), std::string::npos);
}

TEST(QueueRulesText, IptablesOneFamily) {
  const QueueRuleSpec s = queueRuleSpec(1, 1, {21}, true);
  const std::string v4 = queueRulesText(s, QueueForm::Iptables, QueueFamily::Ip);
  EXPECT_NE(v4.find("iptables -t mangle -A FORWARD -p tcp --dport 21 -j NFQUEUE --queue-num 1 "
                    "--queue-bypass\n"),
            std::string::npos);
  EXPECT_EQ(v4.find("ip6tables"), std::string::npos);
  const std::string v6 = queueRulesText(s, QueueForm::Iptables, QueueFamily::Ip6);
  EXPECT_NE(v6.find("ip6tables -t mangle -A FORWARD -p tcp --sport 21"), std::string::npos);
  EXPECT_EQ(v6.find("\niptables"), std::string::npos);
}

TEST(ChooseQueueForm, PresentIsNft) {
  const QueueFormChoice c = chooseQueueForm({NftQueueSupport::Present, 0});
  EXPECT_EQ(c.form, QueueForm::Nft);
  EXPECT_TRUE(c.why.starts_with("# nft queue form: this kernel accepted"));
}

TEST(ChooseQueueForm, AbsentIsIptablesAndSaysWhy) {
  const QueueFormChoice c = chooseQueueForm({NftQueueSupport::Absent, ENOENT});
  EXPECT_EQ(c.form, QueueForm::Iptables);
  EXPECT_EQ(c.why,
            "# iptables NFQUEUE form: this kernel has no nft `queue` expression (probed in a "
            "scratch table: No such file or directory)");
}

TEST(ChooseQueueForm, NoCapabilityFallsBackAndSaysSo) {
  const QueueFormChoice c = chooseQueueForm({NftQueueSupport::Unknown, EPERM});
  EXPECT_EQ(c.form, QueueForm::Iptables);
  EXPECT_TRUE(c.why.starts_with("# iptables NFQUEUE form: without CAP_NET_ADMIN"));
  const QueueFormChoice other = chooseQueueForm({NftQueueSupport::Unknown, ETIMEDOUT});
  EXPECT_EQ(other.form, QueueForm::Iptables);
  EXPECT_NE(other.why.find("probe for the nft `queue` expression failed"), std::string::npos);
}

TEST(ChooseQueueForm, RequestedFormsAreNotProbed) {
  EXPECT_EQ(requestedQueueForm(QueueForm::Nft).form, QueueForm::Nft);
  EXPECT_NE(requestedQueueForm(QueueForm::Iptables).why.find("not probed"), std::string::npos);
}

TEST(ForwardChainExample, CommentedChainWithMarkAndPorts) {
  const std::string t = forwardChainExample(queueRuleSpec(0, 1, {21, 990}, false), 0x42);
  EXPECT_NE(t.find("#\t\t\ttype filter hook forward priority filter; policy drop;\n"),
            std::string::npos);
  EXPECT_NE(t.find("#\t\t\tct state established,related accept\n"), std::string::npos);
  EXPECT_NE(t.find("#\t\t\tct state new tcp dport { 21, 990 } accept\n"), std::string::npos);
  EXPECT_NE(t.find("#\t\t\tct mark 0x00000042 accept\n"), std::string::npos);
  // Every line is a comment.
  size_t start = 0;
  while (start < t.size()) {
    EXPECT_EQ(t[start], '#') << t.substr(start);
    start = t.find('\n', start) + 1;
  }
}

TEST(AdminRulesText, HeaderQueueRulesPinholeTableExample) {
  PinholeConfig pinhole;
  pinhole.table = "alg";
  pinhole.ctMark = 0x7;
  const QueueRuleSpec s = queueRuleSpec(0, 2, {21}, false);
  const QueueFormChoice choice = chooseQueueForm({NftQueueSupport::Absent, ENOENT});
  const std::string t = adminRulesText(choice, s, QueueFamily::Inet, pinhole);
  ASSERT_TRUE(t.starts_with(choice.why + "\n\n"));
  const size_t queue = t.find(queueRulesText(s, QueueForm::Iptables, QueueFamily::Inet));
  const size_t table = t.find(rulesText(pinhole));
  const size_t example = t.find(forwardChainExample(s, 0x7));
  EXPECT_NE(queue, std::string::npos);
  EXPECT_NE(table, std::string::npos);
  EXPECT_NE(example, std::string::npos);
  EXPECT_LT(queue, table);
  EXPECT_LT(table, example);
  // One header line only: the second line is empty.
  EXPECT_EQ(t.find('\n'), choice.why.size());
}

}  // namespace

// Fail-open queueing rules send rewritten control connections (conntrack mark
// QueueRuleSpec::sessionMark) to the queue without bypass, ahead of the bypass rules, in the
// nft and the iptables text (src/kernel/nfqueue/queue_rules_text.cc).
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
// Spread connections, iptables text: HMARK first (the symmetric 5-tuple hash into the mark),
// then one NFQUEUE rule per queue matching its mark; marked sessions' rules spread alike.
TEST(QueueRulesSpread, IptablesHmarkThenOneRulePerQueue) {
  QueueRuleSpec s = queueRuleSpec(160, 2, {21}, false);
  s.spreadConnections = true;
  EXPECT_EQ(queueRulesText(s, QueueForm::Iptables, QueueFamily::Ip),
            "# FTP control traffic to ftpalgd (fail-closed: with no daemon, control traffic is "
            "dropped).\n"
            "iptables -t mangle -A FORWARD -p tcp --dport 21 -j HMARK --hmark-tuple "
            "src,dst,sport,dport,proto --hmark-mod 2 --hmark-offset 160 --hmark-rnd 0xf7a1\n"
            "iptables -t mangle -A FORWARD -p tcp --sport 21 -j HMARK --hmark-tuple "
            "src,dst,sport,dport,proto --hmark-mod 2 --hmark-offset 160 --hmark-rnd 0xf7a1\n"
            "iptables -t mangle -A FORWARD -p tcp --dport 21 -m mark --mark 0xa0 -j NFQUEUE "
            "--queue-num 160\n"
            "iptables -t mangle -A FORWARD -p tcp --sport 21 -m mark --mark 0xa0 -j NFQUEUE "
            "--queue-num 160\n"
            "iptables -t mangle -A FORWARD -p tcp --dport 21 -m mark --mark 0xa1 -j NFQUEUE "
            "--queue-num 161\n"
            "iptables -t mangle -A FORWARD -p tcp --sport 21 -m mark --mark 0xa1 -j NFQUEUE "
            "--queue-num 161\n");
  s.bypass = true;
  s.sessionMark = 0xf7a2;
  const std::string t = queueRulesText(s, QueueForm::Iptables, QueueFamily::Inet);
  EXPECT_NE(t.find("ip6tables -t mangle -A FORWARD -p tcp --dport 21 -m connmark --mark 0xf7a2 "
                   "-m mark --mark 0xa1 -j NFQUEUE --queue-num 161\n"),
            std::string::npos);
  EXPECT_NE(t.find("-m mark --mark 0xa0 -j NFQUEUE --queue-num 160 --queue-bypass\n"),
            std::string::npos);
  EXPECT_LT(t.find("HMARK"), t.find("connmark"));
  EXPECT_EQ(t.find("--queue-balance"), std::string::npos);
}

TEST(QueueRulesSpread, NftQueueToSymhash) {
  QueueRuleSpec s = queueRuleSpec(2, 3, {21}, true);
  s.spreadConnections = true;
  const std::string t = queueRulesText(s, QueueForm::Nft, QueueFamily::Inet);
  EXPECT_NE(t.find("\t\ttcp dport 21 queue flags bypass to symhash mod 3 offset 2\n"),
            std::string::npos);
  // One queue: nothing to spread.
  s.queueCount = 1;
  EXPECT_NE(queueRulesText(s, QueueForm::Nft, QueueFamily::Inet).find("queue num 2 bypass"),
            std::string::npos);
}

}  // namespace ftpalg::test
