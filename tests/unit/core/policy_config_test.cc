// The passive-reply policy (ftpalg/core/policy_config.h) through the whole engine: a 227
// answering EPSV and a 229 answering PASV are solicited (real servers send them); a 227 naming
// another address than its server's follows pasvAddressMismatch (refused with its own reason,
// or rewritten to the server's own address); per-network overrides allow bounces among
// configured server networks.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"
#include "tests/support/nat_bindings.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

NetPrefix prefix(std::string_view addr, uint8_t length) { return {ipFromText(addr), length}; }

constexpr std::string_view kGreeting = "220 ready\r\n";
constexpr std::string_view kServer = "198,19,0,2";  // the harness's server, as a 227 names it

// "227 Entering Passive Mode (HOST,PORT)\r\n"; the default port is 40001.
std::string pasv227(std::string_view host, std::string_view port = "156,65") {
  return "227 Entering Passive Mode (" + std::string(host) + "," + std::string(port) + ")\r\n";
}

// What the client receives when the 227 it is sent names the server itself.
std::string greetingAndServer227() { return std::string(kGreeting) + pasv227(kServer); }

EngineConfig rewriteToPeer() {
  EngineConfig cfg;
  cfg.pasvAddressMismatch = PasvMismatch::RewriteToPeer;
  return cfg;
}

// The handshake and the server's greeting.
void greet(EngineHarness& h) {
  h.handshake();
  h.send(Dir::S2C, kGreeting);
}

// `command` from the client, then `reply` from the server cut at `sizes` (EngineHarness::send).
void exchange(EngineHarness& h, std::string_view command, std::string_view reply,
              std::vector<size_t> sizes = {}) {
  h.send(Dir::C2S, command);
  h.send(Dir::S2C, reply, std::move(sizes));
}

TEST(PassivePolicy, Pasv227AnsweringEpsvIsSolicited) {
  EngineHarness h(EngineConfig{});
  greet(h);
  exchange(h, "EPSV\r\n", pasv227(kServer));
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].kind, EventKind::Pasv227);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.events[0].reason, Reason::Ok);
  EXPECT_EQ(h.events[0].expect.dst, endpoint("198.19.0.2:40001"));
}

TEST(PassivePolicy, Epsv229AnsweringPasvIsSolicited) {
  EngineHarness h(EngineConfig{});
  greet(h);
  exchange(h, "PASV\r\n", "229 Entering Extended Passive Mode (|||40002|)\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].kind, EventKind::Epsv229);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.events[0].expect.dst, endpoint("198.19.0.2:40002"));
}

TEST(PassivePolicy, Pasv227AnsweringEpsvIsRewrittenAsA227) {
  EngineHarness h(EngineConfig{});
  h.setNat(dnatBinding(h, "10.0.0.9"));
  greet(h);
  exchange(h, "EPSV\r\n", pasv227("10,0,0,9"));
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Admit);
  EXPECT_EQ(h.events[0].reason, Reason::Rewritten);
  EXPECT_EQ(h.delivered(Dir::S2C), greetingAndServer227());
  EXPECT_EQ(h.events[0].expect.natTo, endpoint("10.0.0.9:40001"));
}

TEST(PassivePolicy, ReplyToAnotherCommandIsStillUnsolicited) {
  EngineHarness h(EngineConfig{});
  greet(h);
  exchange(h, "NOOP\r\n", "229 Entering Extended Passive Mode (|||40002|)\r\n");
  exchange(h, "LPSV\r\n", pasv227(kServer));
  ASSERT_EQ(h.events.size(), 2u);
  EXPECT_EQ(h.events[0].reason, Reason::Unsolicited);
  EXPECT_EQ(h.events[1].reason, Reason::Unsolicited);
}

TEST(PassivePolicy, MismatchRefusedByDefaultWithItsOwnReasonAndCounter) {
  EngineHarness h(EngineConfig{});
  greet(h);
  const std::string reply = pasv227("172,17,0,2");
  exchange(h, "PASV\r\n", reply);
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Refuse);
  EXPECT_EQ(h.events[0].reason, Reason::PasvAddressMismatch);
  EXPECT_FALSE(h.events[0].hasExpect);
  EXPECT_EQ(h.events[0].announced, endpoint("172.17.0.2:40001"));
  EXPECT_EQ(h.engine().counter(Counter::PasvAddressMismatch), 1u);
  EXPECT_EQ(h.delivered(Dir::S2C), std::string(kGreeting) + reply);  // not rewritten
}

TEST(PassivePolicy, MismatchToASpecialAddressStaysSpecial) {
  EngineHarness h(EngineConfig{});
  greet(h);
  exchange(h, "PASV\r\n", pasv227("127,0,0,1"));
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].reason, Reason::SpecialAddress);
}

TEST(PassivePolicy, RewriteToPeerGivesTheClientTheServersAddress) {
  EngineHarness h(rewriteToPeer());
  greet(h);
  exchange(h, "PASV\r\n", pasv227("172,17,0,2"));
  ASSERT_EQ(h.events.size(), 1u);
  const Event& e = h.events[0];
  EXPECT_EQ(e.verdict, Verdict::Admit);
  EXPECT_EQ(e.reason, Reason::RewrittenToPeer);
  EXPECT_EQ(e.announced, endpoint("172.17.0.2:40001"));
  EXPECT_EQ(e.rewritten, endpoint("198.19.0.2:40001"));
  // Bounce-safe: the data connection is admitted to the server itself, never to 172.17.0.2.
  EXPECT_EQ(e.expect.dst, endpoint("198.19.0.2:40001"));
  EXPECT_EQ(e.expect.natTo, endpoint("198.19.0.2:40001"));
  EXPECT_EQ(h.delivered(Dir::S2C), greetingAndServer227());
  EXPECT_EQ(h.engine().counter(Counter::PasvAddressMismatch), 1u);
}

TEST(PassivePolicy, RewriteToPeerBehindDnatAdmitsTheServersPrivateAddress) {
  EngineHarness h(rewriteToPeer());
  h.setNat(dnatBinding(h, "10.0.0.9"));
  greet(h);
  exchange(h, "EPSV\r\n", pasv227("0,0,0,0"));  // some servers do
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].reason, Reason::RewrittenToPeer);
  EXPECT_EQ(h.events[0].expect.dst, endpoint("198.19.0.2:40001"));
  EXPECT_EQ(h.events[0].expect.natTo, endpoint("10.0.0.9:40001"));
  EXPECT_EQ(h.delivered(Dir::S2C), greetingAndServer227());
}

TEST(PassivePolicy, RewriteToPeerHoldsAReplySplitIntoSegmentsWithoutNat) {
  EngineHarness h(rewriteToPeer());
  greet(h);
  exchange(h, "PASV\r\n", pasv227("172,17,0,2"), {1});  // byte by byte
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].reason, Reason::RewrittenToPeer);
  EXPECT_EQ(h.delivered(Dir::S2C), greetingAndServer227());
}

TEST(PassivePolicy, MismatchPolicyFollowsAReload) {
  EngineHarness h(EngineConfig{});
  greet(h);
  exchange(h, "PASV\r\n", pasv227("172,17,0,2"));
  h.engine().applyPolicy(rewriteToPeer());
  exchange(h, "PASV\r\n", pasv227("172,17,0,2", "156,66"));
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
  greet(h);
  exchange(h, "PORT 198,18,5,7,195,80\r\n", "200 ok\r\n");  // the other server (FXP)
  exchange(h, "PORT 198,18,6,7,195,80\r\n", "200 ok\r\n");  // a host outside the networks
  exchange(h, "PASV\r\n", pasv227("198,18,5,7"));
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
  greet(h);
  h.send(Dir::C2S, "PORT 198,18,5,7,195,80\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].reason, Reason::BounceAddress);
}

}  // namespace
}  // namespace ftpalg::test
