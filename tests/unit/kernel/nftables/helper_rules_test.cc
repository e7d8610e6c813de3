// The text of expectation mode's table (ftpalgd --print-rules in cthelper mode).
#include "ftpalg/kernel/helper_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace ftpalg::test {
namespace {

using kernel::HelperRuleSpec;
using kernel::helperRulesText;

TEST(HelperRulesText, OnePort) {
  EXPECT_EQ(helperRulesText(HelperRuleSpec{}),
            "# expectation mode: ftpalgd is the userspace conntrack helper \"ftpalg\" "
            "(nfnetlink_cthelper)\n"
            "table inet ftpalg_helper {\n"
            "\tct helper ftpalg-ftp {\n"
            "\t\ttype \"ftpalg\" protocol tcp;\n"
            "\t}\n"
            "\tchain pre {\n"
            "\t\ttype filter hook prerouting priority -150; policy accept;   # before dstnat\n"
            "\t\ttcp dport 21 ct state new ct helper set \"ftpalg-ftp\"\n"
            "\t}\n"
            "}\n"
            "# your forward chain (policy drop) needs, before its drop rules:\n"
            "#\tct state established accept\n"
            "#\tct state related accept          # data connections ftpalgd expected\n"
            "#\ttcp dport 21 ct state new accept\n");
}

TEST(HelperRulesText, SeveralPortsAreASet) {
  HelperRuleSpec spec;
  spec.helper = "h2";
  spec.ports = {21, 2121};
  const std::string text = helperRulesText(spec);
  EXPECT_NE(text.find("\"h2\" (nfnetlink_cthelper)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\t\ttype \"h2\" protocol tcp;\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\t\ttcp dport { 21, 2121 } ct state new ct helper set \"ftpalg-ftp\"\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("#\ttcp dport { 21, 2121 } ct state new accept\n"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace ftpalg::test
