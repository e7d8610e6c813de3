// Enum names: every value has a unique, non-empty, stable name, and name -> value round-trips
// (the tables themselves are checked against their enums at compile time).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/ftp_parser.h"

namespace ftpalg::test {
namespace {

template <typename E, typename NameFn>
void expectComplete(size_t count, NameFn name) {
  std::map<std::string, size_t> byName;
  for (size_t i = 0; i < count; ++i) {
    const std::string_view n = name(static_cast<E>(i));
    EXPECT_FALSE(n.empty()) << i;
    EXPECT_NE(n, "unknown") << i;
    EXPECT_TRUE(byName.emplace(std::string(n), i).second) << "duplicate name " << n;
  }
  for (const auto& [n, i] : byName) {
    EXPECT_EQ(name(static_cast<E>(i)), n);  // name -> value -> the same name
  }
  EXPECT_EQ(name(static_cast<E>(count)), "unknown");
}

TEST(Names, EventKinds) {
  expectComplete<core::EventKind>(static_cast<size_t>(core::EventKind::Count), core::eventKindName);
}
TEST(Names, Verdicts) { expectComplete<core::Verdict>(3, core::verdictName); }
TEST(Names, Reasons) {
  expectComplete<core::Reason>(static_cast<size_t>(core::Reason::Count), core::reasonName);
}
TEST(Names, Counters) {
  expectComplete<core::Counter>(static_cast<size_t>(core::Counter::Count), core::counterName);
}
TEST(Names, ParseErrors) {
  expectComplete<core::ParseError>(static_cast<size_t>(core::ParseError::Count),
                                   core::parseErrorName);
}

// Names are logged and counted: they never change. The new splice reasons are their own.
TEST(Names, StableReasonNames) {
  EXPECT_EQ(core::reasonName(core::Reason::TooManyExpectations), "too_many_expectations");
  EXPECT_EQ(core::reasonName(core::Reason::RewriteTableFull), "rewrite_table_full");
  EXPECT_EQ(core::reasonName(core::Reason::UnwritableAddress), "unwritable_address");
  EXPECT_EQ(core::reasonName(core::Reason::SessionTableFull), "session_table_full");
  EXPECT_EQ(core::eventKindName(core::EventKind::Pasv227), "pasv227");
  EXPECT_EQ(core::counterName(core::Counter::GapResync), "gap_resync");
  EXPECT_EQ(core::parseErrorName(core::ParseError::NoAddress), "no_address");
}

}  // namespace
}  // namespace ftpalg::test
