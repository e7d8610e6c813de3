#include "kernel/conntrack/ct_tuples.h"

#include <gtest/gtest.h>

#include "ftpalg/core/types.h"

namespace ftpalg::test {

using namespace ftpalg::kernel;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

core::Endpoint ep(const char* text, uint16_t port) {
  core::Endpoint e;
  EXPECT_TRUE(core::parseIp(text, e.addr)) << text;
  e.port = port;
  return e;
}

// client 198.18.1.2:41000 behind masquerade 198.18.2.1, server 198.18.2.2:21.
CtTuples masquerade() {
  return {ep("198.18.1.2", 41000), ep("198.18.2.2", 21), ep("198.18.2.2", 21),
          ep("198.18.2.1", 41000)};
}

// client 198.18.2.2:50000 dials the port forward 198.18.2.1:8021 -> 198.18.1.2:21.
CtTuples portForward() {
  return {ep("198.18.2.2", 50000), ep("198.18.2.1", 8021), ep("198.18.1.2", 21),
          ep("198.18.2.2", 50000)};
}

TEST(CtTuples, MasqueradeBinding) {
  const core::FlowKey flow{ep("198.18.1.2", 41000), ep("198.18.2.2", 21)};
  ASSERT_TRUE(ctMatchesFlow(masquerade(), flow));
  core::NatBinding b;
  EXPECT_TRUE(ctBinding(masquerade(), b));
  EXPECT_EQ(b.clientInside, ep("198.18.1.2", 0).addr);
  EXPECT_EQ(b.clientOutside, ep("198.18.2.1", 0).addr);
  EXPECT_EQ(b.serverInside, ep("198.18.2.2", 0).addr);
  EXPECT_EQ(b.serverOutside, ep("198.18.2.2", 0).addr);
}

TEST(CtTuples, PortForwardBindingMatchesOnTheRealServer) {
  // At the forward hook the destination is already the real server.
  const core::FlowKey flow{ep("198.18.2.2", 50000), ep("198.18.1.2", 21)};
  ASSERT_TRUE(ctMatchesFlow(portForward(), flow));
  core::NatBinding b;
  EXPECT_TRUE(ctBinding(portForward(), b));
  EXPECT_EQ(b.serverInside, ep("198.18.2.1", 0).addr);
  EXPECT_EQ(b.serverOutside, ep("198.18.1.2", 0).addr);
  EXPECT_EQ(b.clientInside, b.clientOutside);
}

TEST(CtTuples, NoNatIsFalse) {
  const CtTuples t{ep("198.18.1.2", 41000), ep("198.18.2.2", 21), ep("198.18.2.2", 21),
                   ep("198.18.1.2", 41000)};
  core::NatBinding b;
  EXPECT_FALSE(ctBinding(t, b));
  EXPECT_EQ(b.clientInside, b.clientOutside);
}

TEST(CtTuples, OtherPortsOrHostsDoNotMatch) {
  EXPECT_FALSE(ctMatchesFlow(masquerade(), {ep("198.18.1.2", 41001), ep("198.18.2.2", 21)}));
  EXPECT_FALSE(ctMatchesFlow(masquerade(), {ep("198.18.1.2", 41000), ep("198.18.2.2", 2121)}));
  EXPECT_FALSE(ctMatchesFlow(masquerade(), {ep("198.18.1.3", 41000), ep("198.18.2.2", 21)}));
  // The port forward's public address is not the server at the forward hook.
  EXPECT_FALSE(ctMatchesFlow(portForward(), {ep("198.18.2.2", 50000), ep("198.18.2.1", 8021)}));
}

}  // namespace
}  // namespace ftpalg::test
