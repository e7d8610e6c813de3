#include "ftpalg/name_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "cli/link_layer.h"
#include "daemon/config.h"
#include "ftpalg/kernel/queue_rules_text.h"

namespace ftpalg::test {
namespace {

enum class Color : uint8_t { Red, Green, Count };
constexpr NameRow<Color> kColors[] = {{Color::Red, "red"}, {Color::Green, "green"}};
static_assert(completeNameTable(kColors, static_cast<size_t>(Color::Count)));
constexpr NameRow<Color> kOutOfOrder[] = {{Color::Green, "green"}, {Color::Red, "red"}};
static_assert(!completeNameTable(kOutOfOrder, 2));
constexpr NameRow<Color> kRepeated[] = {{Color::Red, "red"}, {Color::Green, "red"}};
static_assert(!completeNameTable(kRepeated, 2));
constexpr NameRow<Color> kUnnamed[] = {{Color::Red, "red"}, {Color::Green, ""}};
static_assert(!completeNameTable(kUnnamed, 2));
static_assert(!completeNameTable(kColors, 3), "a missing row");

TEST(NameTableTest, NameValueAndList) {
  EXPECT_EQ(nameOf(kColors, Color::Green), "green");
  EXPECT_EQ(nameOf(kColors, Color::Count), "unknown");
  Color c = Color::Red;
  EXPECT_TRUE(valueOf(kColors, "green", c));
  EXPECT_EQ(c, Color::Green);
  EXPECT_FALSE(valueOf(kColors, "blue", c));
  EXPECT_EQ(c, Color::Green) << "untouched";
  EXPECT_EQ(namesList(kColors), "red, green");
}

// Every enumerator of a table-named enum outside the core has a unique name that parses back
// (where a parser exists) to the same value.
template <typename E, typename NameFn>
std::set<std::string> namesOf(size_t count, NameFn name) {
  std::set<std::string> seen;
  for (size_t i = 0; i < count; ++i) {
    const std::string n(name(static_cast<E>(i)));
    EXPECT_FALSE(n.empty() || n == "unknown") << i;
    EXPECT_TRUE(seen.insert(n).second) << "repeated name " << n;
  }
  return seen;
}

TEST(NameTableTest, DaemonEnumsRoundTrip) {
  for (const std::string& n : namesOf<daemon::LogLevel>(4, daemon::logLevelName)) {
    daemon::LogLevel l{};
    ASSERT_TRUE(daemon::parseLogLevel(n, l).ok()) << n;
    EXPECT_EQ(daemon::logLevelName(l), n);
  }
  for (const std::string& n : namesOf<daemon::KernelMode>(3, daemon::kernelModeName)) {
    daemon::KernelMode m{};
    ASSERT_TRUE(daemon::parseKernelMode(n, m).ok()) << n;
    EXPECT_EQ(daemon::kernelModeName(m), n);
  }
  EXPECT_EQ(daemon::logLevelName(static_cast<daemon::LogLevel>(4)), "unknown") << "4 levels";
  EXPECT_EQ(daemon::kernelModeName(static_cast<daemon::KernelMode>(3)), "unknown") << "3 modes";
}

TEST(NameTableTest, KernelAndCliEnumsAreNamedOnce) {
  EXPECT_EQ(namesOf<kernel::QueueForm>(2, kernel::queueFormName),
            (std::set<std::string>{"nft", "iptables"}));
  EXPECT_EQ(namesOf<kernel::QueueFamily>(3, kernel::queueFamilyName),
            (std::set<std::string>{"inet", "ip", "ip6"}));
  EXPECT_EQ(kernel::queueFamilyName(static_cast<kernel::QueueFamily>(3)), "unknown");
  // LinkType's names come from an exhaustive switch (-Wswitch is an error): 8 link types.
  EXPECT_EQ(namesOf<cli::LinkType>(8, cli::linkTypeName).size(), 8u);
}

}  // namespace
}  // namespace ftpalg::test
