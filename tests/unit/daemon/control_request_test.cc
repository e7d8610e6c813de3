// The control socket's request line (src/daemon/control_request.cc): the two commands, the
// length limit, and flows in the form the events write them.
#include "daemon/control_request.h"

#include <gtest/gtest.h>

#include <string>

#include "daemon/text.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using daemon::ControlRequest;
using daemon::parseControlRequest;
using daemon::parseFlowText;
using daemon::RequestError;

TEST(ControlRequest, Commands) {
  ControlRequest r;
  EXPECT_EQ(parseControlRequest("status", r), RequestError::None);
  EXPECT_EQ(r.kind, ControlRequest::Kind::Status);
  EXPECT_EQ(parseControlRequest("status\r", r), RequestError::None);
  EXPECT_EQ(parseControlRequest("session 198.18.1.2:40000-198.19.1.2:21", r), RequestError::None);
  EXPECT_EQ(r.kind, ControlRequest::Kind::Session);
  EXPECT_EQ(daemon::flowText(r.flow), "198.18.1.2:40000-198.19.1.2:21");
  EXPECT_EQ(parseControlRequest("", r), RequestError::Empty);
  EXPECT_EQ(parseControlRequest("STATUS", r), RequestError::UnknownCommand);
  EXPECT_EQ(parseControlRequest("status now", r), RequestError::UnknownCommand);
  EXPECT_EQ(parseControlRequest("session", r), RequestError::UnknownCommand);
  EXPECT_EQ(parseControlRequest("session x", r), RequestError::BadFlow);
  EXPECT_EQ(daemon::requestErrorName(RequestError::BadFlow), "bad_flow");
}

TEST(ControlRequest, LengthLimit) {
  ControlRequest r;
  const std::string longest(daemon::kMaxRequestBytes, 's');
  EXPECT_EQ(parseControlRequest(longest, r), RequestError::UnknownCommand);
  EXPECT_EQ(parseControlRequest(longest + "s", r), RequestError::TooLong);
  EXPECT_EQ(parseControlRequest("status" + std::string(daemon::kMaxRequestBytes, ' '), r),
            RequestError::TooLong);
}

TEST(ControlRequest, FlowsRoundTripFlowText) {
  for (const char* text :
       {"198.18.1.2:40000-198.19.1.2:21", "[2001:db8:1::2]:40000-[2001:db8:2::2]:21",
        "0.0.0.1:1-255.255.255.255:65535"}) {
    core::FlowKey f;
    ASSERT_TRUE(parseFlowText(text, f)) << text;
    EXPECT_EQ(daemon::flowText(f), text);
  }
}

TEST(ControlRequest, BadFlows) {
  core::FlowKey f;
  for (const char* text :
       {"", "-", "198.18.1.2:40000", "198.18.1.2:40000-", "198.18.1.2:0-198.19.1.2:21",
        "198.18.1.2:65536-198.19.1.2:21", "198.18.1.2-198.19.1.2:21",
        "198.18.1.2:40000-[2001:db8::2]:21", "2001:db8::1:40000-[2001:db8::2]:21",
        "[198.18.1.2]:1-[198.19.1.2]:21", "198.18.1.2:+1-198.19.1.2:21",
        "198.18.1.2:40000-198.19.1.2:21 ", "198.018.1.2:1-198.19.1.2:21"}) {
    EXPECT_FALSE(parseFlowText(text, f)) << text;
  }
}

}  // namespace
}  // namespace ftpalg::test
