// `ftpalg rules --session-mark`: the mark of rewritten control connections that fail-open rules
// queue without bypass (default 0xf7a2, "0" for none).
#include <gtest/gtest.h>

#include "cli/rules_cmd.h"

namespace ftpalg::test {
namespace {

using cli::makeRulesRequest;
using cli::RulesOptions;
using cli::RulesRequest;

TEST(RulesSessionMark, DefaultNoneAndBad) {
  RulesRequest r;
  ASSERT_TRUE(makeRulesRequest({}, r).ok());
  EXPECT_EQ(r.spec.sessionMark, 0xf7a2u);
  RulesOptions o;
  o.sessionMark = "0";
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.spec.sessionMark, 0u);
  o.sessionMark = "0x10";
  ASSERT_TRUE(makeRulesRequest(o, r).ok());
  EXPECT_EQ(r.spec.sessionMark, 0x10u);
  o.sessionMark = "x";
  EXPECT_FALSE(makeRulesRequest(o, r).ok());
}

}  // namespace
}  // namespace ftpalg::test
