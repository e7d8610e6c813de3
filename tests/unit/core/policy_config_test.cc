// The passive-reply policy (ftpalg/core/policy_config.h) through the whole engine: a 227
// answering EPSV and a 229 answering PASV are solicited (real servers send them); a 227 naming
// another address than its server's follows pasvAddressMismatch (refused with its own reason,
// or rewritten to the server's own address); per-network overrides allow bounces among
// configured server networks.
#include <gtest/gtest.h>

#include <string>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

// The server 198.19.0.2 published as itself (no NAT) or behind DNAT at `priv`.
NatBinding serverAt(const EngineHarness& h, std::string_view priv) {
  NatBinding b;
  b.clientInside = h.client().addr;
  b.clientOutside = h.client().addr;
  b.serverInside = h.server().addr;
  b.serverOutside = ipFromText(priv);
  return b;
}

NetPrefix prefix(std::string_view addr, uint8_t length) { return {ipFromText(addr), length}; }

TEST(PassivePolicy, Pasv227AnsweringEpsvIsSolicited) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "EPSV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,65)\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].kind, EventKind::Pasv227);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.events[0].reason, Reason::Ok);
  EXPECT_EQ(h.events[0].expect.dst, endpoint("198.19.0.2:40001"));
}

TEST(PassivePolicy, Epsv229AnsweringPasvIsSolicited) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "229 Entering Extended Passive Mode (|||40002|)\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].kind, EventKind::Epsv229);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.events[0].expect.dst, endpoint("198.19.0.2:40002"));
}

TEST(PassivePolicy, Pasv227AnsweringEpsvIsRewrittenAsA227) {
  EngineHarness h(EngineConfig{});
  h.setNat(serverAt(h, "10.0.0.9"));
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "EPSV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (10,0,0,9,156,65)\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.events[0].reason, Reason::Rewritten);
  EXPECT_EQ(h.delivered(Dir::S2C),
            "220 ready\r\n227 Entering Passive Mode (198,19,0,2,156,65)\r\n");
  EXPECT_EQ(h.events[0].expect.natTo, endpoint("10.0.0.9:40001"));
}

TEST(PassivePolicy, ReplyToAnotherCommandIsStillUnsolicited) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "NOOP\r\n");
  h.send(Dir::S2C, "229 Entering Extended Passive Mode (|||40002|)\r\n");
  h.send(Dir::C2S, "LPSV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,65)\r\n");
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].reason, Reason::Unsolicited);
  EXPECT_EQ(h.events[1].reason, Reason::Unsolicited);
}

TEST(PassivePolicy, MismatchRefusedByDefaultWithItsOwnReasonAndCounter) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  const std::string reply = "227 Entering Passive Mode (172,17,0,2,156,65)\r\n";
  h.send(Dir::S2C, reply);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Refuse);
  EXPECT_EQ(h.events[0].reason, Reason::PasvAddressMismatch);
  EXPECT_FALSE(h.events[0].hasExpect);
  EXPECT_EQ(h.events[0].announced, endpoint("172.17.0.2:40001"));
  EXPECT_EQ(h.engine().counter(Counter::PasvAddressMismatch), 1u);
  EXPECT_EQ(h.delivered(Dir::S2C), "220 ready\r\n" + reply);  // not rewritten
}

TEST(PassivePolicy, MismatchToASpecialAddressStaysSpecial) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (127,0,0,1,156,65)\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].reason, Reason::SpecialAddress);
}

TEST(PassivePolicy, RewriteToPeerGivesTheClientTheServersAddress) {
  EngineConfig cfg;
  cfg.pasvAddressMismatch = PasvMismatch::RewriteToPeer;
  EngineHarness h(cfg);
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (172,17,0,2,156,65)\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  const Event& e = h.events[0];
  EXPECT_EQ(e.verdict, Verdict::Admit);
  EXPECT_EQ(e.reason, Reason::RewrittenToPeer);
  EXPECT_EQ(e.announced, endpoint("172.17.0.2:40001"));
  EXPECT_EQ(e.rewritten, endpoint("198.19.0.2:40001"));
  // Bounce-safe: the data connection is admitted to the server itself, never to 172.17.0.2.
  EXPECT_EQ(e.expect.dst, endpoint("198.19.0.2:40001"));
  EXPECT_EQ(e.expect.natTo, endpoint("198.19.0.2:40001"));
  EXPECT_EQ(h.delivered(Dir::S2C),
            "220 ready\r\n227 Entering Passive Mode (198,19,0,2,156,65)\r\n");
  EXPECT_EQ(h.engine().counter(Counter::PasvAddressMismatch), 1u);
}

TEST(PassivePolicy, RewriteToPeerBehindDnatAdmitsTheServersPrivateAddress) {
  EngineConfig cfg;
  cfg.pasvAddressMismatch = PasvMismatch::RewriteToPeer;
  EngineHarness h(cfg);
  h.setNat(serverAt(h, "10.0.0.9"));
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "EPSV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (0,0,0,0,156,65)\r\n");  // some servers do
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].reason, Reason::RewrittenToPeer);
  EXPECT_EQ(h.events[0].expect.dst, endpoint("198.19.0.2:40001"));
  EXPECT_EQ(h.events[0].expect.natTo, endpoint("10.0.0.9:40001"));
  EXPECT_EQ(h.delivered(Dir::S2C),
            "220 ready\r\n227 Entering Passive Mode (198,19,0,2,156,65)\r\n");
}

TEST(PassivePolicy, RewriteToPeerHoldsAReplySplitIntoSegmentsWithoutNat) {
  EngineConfig cfg;
  cfg.pasvAddressMismatch = PasvMismatch::RewriteToPeer;
  EngineHarness h(cfg);
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (172,17,0,2,156,65)\r\n", {1});  // byte by byte
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].reason, Reason::RewrittenToPeer);
  EXPECT_EQ(h.delivered(Dir::S2C),
            "220 ready\r\n227 Entering Passive Mode (198,19,0,2,156,65)\r\n");
}

TEST(PassivePolicy, MismatchPolicyFollowsAReload) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (172,17,0,2,156,65)\r\n");
  EngineConfig next;
  next.pasvAddressMismatch = PasvMismatch::RewriteToPeer;
  h.engine().applyPolicy(next);
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (172,17,0,2,156,66)\r\n");
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].reason, Reason::PasvAddressMismatch);
  EXPECT_EQ(h.events[1].reason, Reason::RewrittenToPeer);
  EXPECT_EQ(h.engine().counter(Counter::PasvAddressMismatch), 2u);
}

TEST(PassivePolicy, OverrideAllowsFxpBetweenConfiguredServerNetworks) {
  EngineConfig cfg;
  cfg.overrides[0].networks[0] = prefix("198.19.0.0", 24);
  cfg.overrides[0].networks[1] = prefix("198.18.5.0", 24);
  cfg.overrides[0].allowBounce = true;
  EngineHarness h(cfg);
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PORT 198,18,5,7,195,80\r\n");  // the other server (FXP)
  h.send(Dir::S2C, "200 ok\r\n");
  h.send(Dir::C2S, "PORT 198,18,6,7,195,80\r\n");  // a host outside the networks
  h.send(Dir::S2C, "200 ok\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,18,5,7,156,65)\r\n");
  ASSERT_EQ(h.events.size(), 3u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.events[0].expect.dst, endpoint("198.18.5.7:50000"));
  EXPECT_EQ(h.events[1].reason, Reason::BounceAddress);
  EXPECT_EQ(h.events[2].verdict, Verdict::Admit);  // overrides win over pasv_address_mismatch
  EXPECT_EQ(h.events[2].expect.dst, endpoint("198.18.5.7:40001"));
}

TEST(PassivePolicy, OverrideNeedsTheServerInItsNetworks) {
  EngineConfig cfg;
  cfg.overrides[0].networks[0] = prefix("198.18.5.0", 24);
  cfg.overrides[0].allowBounce = true;
  cfg.overrides[0].allowLowPorts = true;
  EngineHarness h(cfg);  // the server 198.19.0.2 is not in 198.18.5.0/24
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "PORT 198,18,5,7,195,80\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].reason, Reason::BounceAddress);
}

}  // namespace
}  // namespace ftpalg::test
