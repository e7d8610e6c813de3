#include "ftpalg/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace ftpalg::test {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::Ok);
  EXPECT_EQ(s.err(), 0);
  EXPECT_EQ(s.message(), "ok");
}

TEST(StatusTest, SystemErrorNamesContextAndErrno) {
  const Status s = Status::error(ENOENT, "nft: add element to pin4");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::System);
  EXPECT_EQ(s.err(), ENOENT);
  EXPECT_EQ(s.what(), "nft: add element to pin4");
  EXPECT_EQ(s.message(), "nft: add element to pin4: No such file or directory");
}

TEST(StatusTest, MessageOnlyError) {
  const Status s = Status::error("bad mark '0' (1..0xffffffff)");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::Invalid);
  EXPECT_EQ(s.message(), "bad mark '0' (1..0xffffffff)");
  EXPECT_EQ(Status::unavailable("no cthelper").code(), StatusCode::Unavailable);
}

TEST(ResultTest, ValueOrStatus) {
  Result<int> good = 42;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good.value(), 42);
  EXPECT_TRUE(good.status().ok());
  const Result<std::string> bad = Status::error(EPERM, "open");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().err(), EPERM);
}

TEST(StatusTest, WithoutPathPrefix) {
  EXPECT_EQ(withoutPathPrefix("x.pcap: truncated", "x.pcap"), "truncated");
  EXPECT_EQ(withoutPathPrefix("y.pcap: truncated", "x.pcap"), "y.pcap: truncated");
  EXPECT_EQ(withoutPathPrefix("x.pcapng", "x.pcap"), "x.pcapng");
}

}  // namespace
}  // namespace ftpalg::test
