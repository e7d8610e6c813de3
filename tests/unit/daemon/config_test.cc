// ftpalgd configuration: queue/port/mark parsing, the TOML file (errors with file:line:col),
// and command-line precedence over the file.
// g++ 12 at -O2 reports a false -Wnull-dereference inside inlined std::string code here (as in
// src/cli/main.cc); the test has no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "daemon/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace ftpalg::test {

using namespace ftpalg::daemon;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

TEST(QueueList, SingleRangeAndList) {
  std::vector<uint16_t> q;
  ASSERT_TRUE(parseQueueList("0", q).ok());
  EXPECT_EQ(q, (std::vector<uint16_t>{0}));
  ASSERT_TRUE(parseQueueList("0-3", q).ok());
  EXPECT_EQ(q, (std::vector<uint16_t>{0, 1, 2, 3}));
  ASSERT_TRUE(parseQueueList("1,4-5,65535", q).ok());
  EXPECT_EQ(q, (std::vector<uint16_t>{1, 4, 5, 65535}));
}

TEST(QueueList, RejectsBadInput) {
  std::vector<uint16_t> q{7};
  for (const char* bad : {"", "-", "1-", "-1", "3-1", "65536", "+1", "1,1", "0-1,1", "a", "1 2",
                          "0-64", "1,,2", "0x1"}) {
    EXPECT_FALSE(parseQueueList(bad, q).ok()) << bad;
  }
  EXPECT_EQ(q, (std::vector<uint16_t>{7}));  // untouched on error
}

TEST(PortList, ExtraPortsWithout21) {
  std::vector<uint16_t> p;
  ASSERT_TRUE(parsePortList("2121,21,2122", p).ok());
  EXPECT_EQ(p, (std::vector<uint16_t>{2121, 2122}));
  EXPECT_FALSE(parsePortList("0", p).ok());
  EXPECT_FALSE(parsePortList("65536", p).ok());
  EXPECT_FALSE(parsePortList("2121,2121", p).ok());
  EXPECT_FALSE(parsePortList("1,2,3,4,5,6,7,8", p).ok());
}

TEST(Mark, HexAndDecimal) {
  uint32_t m = 0;
  ASSERT_TRUE(parseMark("0xf7a1", m).ok());
  EXPECT_EQ(m, 0xf7a1u);
  ASSERT_TRUE(parseMark("63393", m).ok());
  EXPECT_EQ(m, 63393u);
  ASSERT_TRUE(parseMark("0xffffffff", m).ok());
  EXPECT_EQ(m, 0xffffffffu);
  for (const char* bad : {"0", "0x", "0x100000000", "-1", "12a", ""}) {
    EXPECT_FALSE(parseMark(bad, m).ok()) << bad;
  }
}

TEST(ConfigText, AllKeys) {
  DaemonConfig cfg;
  const char* text = R"(
queues = "0-1"
kernel_mode = "pinhole"
install_rules = true
fail_open = true
events = "/var/log/ftpalg/events.jsonl"
log_level = "debug"
mark = 0x1234
pinhole_timeout = 10
queue_maxlen = 8192
allow_bounce = true
allow_low_ports = true
allow_long_forms = true
ports = [2121, 2122]
table = "alg"
)";
  Status s = applyConfigText(text, "t.toml", cfg);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(cfg.queues, (std::vector<uint16_t>{0, 1}));
  EXPECT_EQ(cfg.kernelMode, KernelMode::Pinhole);
  EXPECT_TRUE(cfg.installRules);
  EXPECT_TRUE(cfg.failOpen);
  EXPECT_EQ(cfg.eventsPath, "/var/log/ftpalg/events.jsonl");
  EXPECT_EQ(cfg.logLevel, LogLevel::Debug);
  EXPECT_EQ(cfg.mark, 0x1234u);
  EXPECT_EQ(cfg.pinholeTimeoutS, 10u);
  EXPECT_EQ(cfg.queueMaxLen, 8192u);
  EXPECT_TRUE(cfg.allowBounce);
  EXPECT_TRUE(cfg.allowLowPorts);
  EXPECT_TRUE(cfg.allowLongForms);
  EXPECT_EQ(cfg.ports, (std::vector<uint16_t>{2121, 2122}));
  EXPECT_EQ(cfg.table, "alg");
}

TEST(ConfigText, MarkAsStringAndQueuesAsInteger) {
  DaemonConfig cfg;
  ASSERT_TRUE(applyConfigText("mark = \"0xf7\"\nqueues = 3\n", "t.toml", cfg).ok());
  EXPECT_EQ(cfg.mark, 0xf7u);
  EXPECT_EQ(cfg.queues, (std::vector<uint16_t>{3}));
}

// Each error names the file, line and column of the offending key or value.
TEST(ConfigText, ErrorsCarryFileLineColumn) {
  struct Case {
    const char* text;
    const char* want;
  };
  const Case cases[] = {
      {"queues = \"0-1\"\nbogus = 1\n", "t.toml:2:1: unknown key 'bogus'"},
      {"fail_open = \"yes\"\n", "t.toml:1:13: 'fail_open' must be true or false"},
      {"\n\nqueues = \"3-1\"\n", "t.toml:3:10: 'queues': descending queue range '3-1'"},
      {"pinhole_timeout = 0\n", "t.toml:1:19: 'pinhole_timeout' must be an integer 1..86400"},
      {"log_level = \"loud\"\n", "t.toml:1:13: 'log_level': bad log level 'loud'"},
      {"ports = [2121, 70000]\n", "t.toml:1:16: 'ports' elements must be integers 1..65535"},
      {"kernel_mode = \"bogus\"\n", "t.toml:1:15: 'kernel_mode': bad kernel mode 'bogus'"},
      {"queues = [\n", "t.toml:1:12: "},  // TOML syntax error (end of file inside [)
  };
  for (const Case& c : cases) {
    DaemonConfig cfg;
    const Status s = applyConfigText(c.text, "t.toml", cfg);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.message().rfind(c.want, 0), 0u) << "got: " << s.message();
  }
}

TEST(ConfigText, ErrorLeavesConfigUnchanged) {
  DaemonConfig cfg;
  ASSERT_FALSE(applyConfigText("fail_open = true\nmark = 0\n", "t.toml", cfg).ok());
  EXPECT_FALSE(cfg.failOpen);
  EXPECT_EQ(cfg.mark, DaemonConfig{}.mark);
}

class CommandLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "ftpalgd_config_test.toml";
    std::ofstream(path_) << "queues = \"0-3\"\nfail_open = true\nmark = 0x10\n";
  }
  void TearDown() override { std::remove(path_.c_str()); }
  Status parse(std::vector<std::string> args, CommandLine& out) {
    args.insert(args.begin(), "ftpalgd");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    return parseCommandLine(static_cast<int>(argv.size()), argv.data(), out);
  }
  std::string path_;
};

TEST_F(CommandLineTest, FlagsOverrideFile) {
  CommandLine cl;
  Status s = parse({"--config", path_, "--queues", "5", "--ports", "2121"}, cl);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(cl.config.queues, (std::vector<uint16_t>{5}));
  EXPECT_TRUE(cl.config.failOpen);   // from the file
  EXPECT_EQ(cl.config.mark, 0x10u);  // from the file
  EXPECT_EQ(cl.config.ports, (std::vector<uint16_t>{2121}));
}

TEST_F(CommandLineTest, Defaults) {
  CommandLine cl;
  ASSERT_TRUE(parse({}, cl).ok());
  EXPECT_EQ(cl.config.queues, (std::vector<uint16_t>{0}));
  EXPECT_FALSE(cl.config.failOpen);
  EXPECT_EQ(cl.config.kernelMode, KernelMode::Auto);
  EXPECT_TRUE(cl.config.eventsPath.empty());
}

TEST_F(CommandLineTest, Errors) {
  CommandLine cl;
  EXPECT_EQ(parse({"--queues", "x"}, cl).message(), "--queues: bad queue number or range 'x'");
  EXPECT_FALSE(parse({"--pinhole-timeout", "0"}, cl).ok());
  EXPECT_FALSE(parse({"--no-such-flag"}, cl).ok());
  EXPECT_EQ(parse({"--config", "/nonexistent/ftpalgd.toml"}, cl)
                .message()
                .rfind("cannot read /nonexistent/ftpalgd.toml", 0),
            0u);
  // --install-rules needs a range NFQUEUE --queue-balance can express.
  EXPECT_FALSE(parse({"--install-rules", "--queues", "0,2"}, cl).ok());
  EXPECT_TRUE(parse({"--install-rules", "--queues", "2-3"}, cl).ok());
}

}  // namespace
}  // namespace ftpalg::test
