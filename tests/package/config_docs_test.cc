// The configuration keys ftpalgd accepts (configKeys) are exactly those ftpalgd.toml(5)
// documents and those the packaged example file packaging/ftpalgd.toml shows, and that file,
// with every key uncommented, is the daemon's defaults: docs and code cannot drift.
// g++ 12 at -O2 reports a false -Wnull-dereference inside inlined std::string code here (as in
// src/cli/main.cc); the test has no pointer arithmetic of its own.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "daemon/config.h"
#include "ftpalg/defaults.h"

#ifndef FTPALG_SOURCE_DIR
#error "FTPALG_SOURCE_DIR is set by tests/package/CMakeLists.txt"
#endif

namespace ftpalg::test {
namespace {

std::string readSource(const std::string& rel) {
  std::ifstream in(std::string(FTPALG_SOURCE_DIR) + "/" + rel);
  EXPECT_TRUE(in.good()) << rel;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The first capture group of `re` on every line of `text` that matches it.
std::set<std::string> keysIn(const std::string& text, const std::regex& re) {
  std::set<std::string> keys;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, re)) keys.insert(m[1]);
  }
  return keys;
}

std::set<std::string> acceptedKeys() {
  std::set<std::string> keys;
  for (std::string_view k : daemon::configKeys()) keys.emplace(k);
  return keys;
}

TEST(ConfigDocs, ManPageDocumentsEveryKeyAndNoOther) {
  // Definition lines of ftpalgd.toml.5.scd: "*key* = ..." at the start of a line.
  const std::set<std::string> documented =
      keysIn(readSource("docs/man/ftpalgd.toml.5.scd"), std::regex(R"(^\*([a-z_]+)\* =)"));
  EXPECT_EQ(documented, acceptedKeys());
}

TEST(ConfigDocs, ExampleFileShowsEveryKeyAndNoOther) {
  const std::set<std::string> shown =
      keysIn(readSource("packaging/ftpalgd.toml"), std::regex(R"(^#? ?([a-z_]+) = )"));
  EXPECT_EQ(shown, acceptedKeys());
}

TEST(ConfigDocs, ExampleFileIsTheDefaults) {
  const std::string text = readSource("packaging/ftpalgd.toml");
  daemon::DaemonConfig asShipped;
  Status s = daemon::applyConfigText(text, "ftpalgd.toml", asShipped);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(asShipped == daemon::DaemonConfig{});

  // Uncomment every "# key = value" line: the values shown are the defaults (max_held shows the
  // value its default, a quarter of queue_maxlen, comes to).
  const std::string uncommented =
      std::regex_replace(text, std::regex(R"((^|\n)# ([a-z_]+ = ))"), "$1$2");
  daemon::DaemonConfig shown;
  s = daemon::applyConfigText(uncommented, "ftpalgd.toml", shown);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(shown.maxHeld, shown.queueMaxLen / 4);
  shown.maxHeld = 0;
  // The default table name is resolved from the first queue when the command line is parsed.
  EXPECT_EQ(shown.table, defaults::tableName(shown.queues.front()));
  shown.table.clear();
  EXPECT_TRUE(shown == daemon::DaemonConfig{});
}

}  // namespace
}  // namespace ftpalg::test
