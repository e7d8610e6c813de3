// The pure parsers behind `ftpalg check`'s readers, and the findings' output forms.
#include "cli/check_read.h"

#include <gtest/gtest.h>

#include "cli/check_findings.h"

namespace ftpalg::test {
namespace {

TEST(CheckRead, NetlinkInodeOfAQueuePortId) {
  const std::string text =
      "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"
      "ffff8881a1b2c000 0   4242       00000000 0        0        0     2        0        111\n"
      "ffff8881a1b2c800 12  4242       00000000 0        0        0     2        0        222\n"
      "ffff8881a1b2d000 12  -4100      00000000 0        0        0     2        0        333\n";
  EXPECT_EQ(cli::netlinkInode(text, 4242), 222u);  // protocol 12 (netfilter) only
  EXPECT_EQ(cli::netlinkInode(text, 7), 0u);
  EXPECT_EQ(cli::netlinkInode("", 4242), 0u);
}

TEST(CheckRead, JsonField) {
  const std::string line =
      R"({"ts":1.5,"flow":"198.18.1.2:1-198.19.1.2:21","kind":"pasv227","announced":"a\"b",)"
      R"("rewritten":null,"verdict":"refuse","reason":"bounce_address"})";
  EXPECT_EQ(cli::jsonField(line, "kind"), "pasv227");
  EXPECT_EQ(cli::jsonField(line, "announced"), "a\"b");
  EXPECT_EQ(cli::jsonField(line, "rewritten"), "");  // null: not a string
  EXPECT_EQ(cli::jsonField(line, "missing"), "");
  EXPECT_EQ(cli::jsonField(R"({"kind":"unterminated)", "kind"), "");
}

TEST(CheckRead, ParseRefusalsKeepsRefusalsOnly) {
  const std::string text =
      R"({"flow":"f1","dir":"s2c","kind":"pasv227","announced":"198.19.2.3:40001","verdict":"refuse","reason":"bounce_address"})"
      "\n"
      R"({"flow":"f2","dir":"c2s","kind":"port","announced":"198.18.1.2:5000","verdict":"admit","reason":"rewritten"})"
      "\n{broken\n";
  const auto r = cli::parseRefusals(text);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].flow, "f1");
  EXPECT_EQ(r[0].dir, "s2c");
  EXPECT_EQ(r[0].kind, "pasv227");
  EXPECT_EQ(r[0].reason, "bounce_address");
  EXPECT_EQ(r[0].announced, "198.19.2.3:40001");
}

TEST(CheckRead, ConfigStringTopLevelOnly) {
  const std::string toml =
      "# comment\nqueues = \"0-1\"\nevents = \"/var/log/ftpalg/events.jsonl\"\n"
      "events_extra = \"no\"\n[section]\ntable = \"inner\"\n";
  EXPECT_EQ(cli::configString(toml, "events"), "/var/log/ftpalg/events.jsonl");
  EXPECT_EQ(cli::configString(toml, "queues"), "0-1");
  EXPECT_EQ(cli::configString(toml, "table"), "");  // below a [section]
  EXPECT_EQ(cli::configString(toml, "control_socket"), "");
}

TEST(CheckFindings, TextJsonAndExitStatus) {
  cli::Findings fs;
  EXPECT_EQ(cli::exitStatus(fs), cli::kExitHealthy);
  EXPECT_EQ(cli::formatFindings(fs), "ftpalg check: no problems found\n");
  fs.push_back({"queue_drops", cli::Severity::Warning, "queue 0 dropped", "raise it"});
  EXPECT_EQ(cli::exitStatus(fs), cli::kExitHealthy);
  fs.push_back({"no_queue_rule", cli::Severity::Error, "no \"rule\"", "add one"});
  EXPECT_EQ(cli::exitStatus(fs), cli::kExitFtpBroken);
  EXPECT_EQ(cli::formatFindings(fs),
            "warning queue_drops: queue 0 dropped\n        fix: raise it\n"
            "error   no_queue_rule: no \"rule\"\n        fix: add one\n"
            "ftpalg check: 1 error(s), 1 warning(s): FTP through this gateway cannot work until "
            "the errors are fixed\n");
  EXPECT_EQ(cli::formatFindingsJson(fs),
            R"({"errors":1,"warnings":1,"findings":[{"id":"queue_drops","severity":"warning",)"
            R"("what":"queue 0 dropped","fix":"raise it"},{"id":"no_queue_rule","severity":)"
            R"("error","what":"no \"rule\"","fix":"add one"}]})"
            "\n");
}

}  // namespace
}  // namespace ftpalg::test
