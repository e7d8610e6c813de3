// Tests for tests/support/guard_buffer.cc: the copy ends exactly at an inaccessible page.
#include "tests/support/guard_buffer.h"

#include <gtest/gtest.h>

#include <string_view>
#include <utility>

namespace ftpalg::test {
namespace {

TEST(GuardBuffer, HoldsACopyEndingAtThePage) {
  const GuardBuffer g("PORT 1,2,3,4,5,6");
  EXPECT_EQ(g.view(), "PORT 1,2,3,4,5,6");
  EXPECT_EQ(g.size(), 16U);
  EXPECT_EQ(g.bytes().size(), 16U);
}

TEST(GuardBuffer, EmptyAndMoved) {
  GuardBuffer a("");
  EXPECT_TRUE(a.view().empty());
  GuardBuffer b("x");
  a = std::move(b);
  EXPECT_EQ(a.view(), "x");
  const GuardBuffer c(std::move(a));
  EXPECT_EQ(c.view(), "x");
}

TEST(GuardBufferDeathTest, ReadingOneBytePastTheEndFaults) {
  const GuardBuffer g("abc");
  const volatile char* p = g.view().data();
  EXPECT_DEATH({ [[maybe_unused]] const char c = p[3]; }, "");
}

}  // namespace
}  // namespace ftpalg::test
