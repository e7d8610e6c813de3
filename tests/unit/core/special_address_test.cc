// Special addresses (special_address.h) and the policy's refusal of them: with or without
// --allow-bounce, an announcement naming loopback, unspecified, broadcast, multicast,
// link-local or the gateway's own address (not the announcing peer's) is refused as
// special_address.
#include "src/core/special_address.h"

#include <gtest/gtest.h>

#include <string_view>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

TEST(SpecialAddress, Classifies) {
  for (std::string_view a : {"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.0.9", "169.254.1.1",
                             "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
                             "::", "::1", "fe80::1", "febf::1", "ff02::1"}) {
    EXPECT_TRUE(isSpecialAddress(ipFromText(a))) << a;
  }
  for (std::string_view a :
       {"1.0.0.0", "10.0.0.1", "126.255.255.255", "169.253.1.1", "192.168.1.2", "223.255.255.255",
        "198.51.100.7", "2001:db8::1", "fec0::1", "::2", "fc00::1"}) {
    EXPECT_FALSE(isSpecialAddress(ipFromText(a))) << a;
  }
  auto mapped = [](uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return IpAddr::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d});
  };
  EXPECT_TRUE(isSpecialAddress(mapped(127, 0, 0, 1)));
  EXPECT_TRUE(isSpecialAddress(mapped(255, 255, 255, 255)));
  EXPECT_FALSE(isSpecialAddress(mapped(10, 0, 0, 1)));
  EXPECT_TRUE(isSpecialAddress(IpAddr{}));
}

TEST(SpecialAddress, ListedAddressesIgnoreUnusedEntries) {
  std::array<IpAddr, 3> own{ipFromText("192.0.2.1"), IpAddr{}, ipFromText("2001:db8::9")};
  EXPECT_TRUE(isListedAddress(ipFromText("192.0.2.1"), own));
  EXPECT_TRUE(isListedAddress(ipFromText("2001:db8::9"), own));
  EXPECT_FALSE(isListedAddress(ipFromText("192.0.2.2"), own));
  EXPECT_FALSE(isListedAddress(IpAddr{}, own));
}

// Through the engine, with bounce allowed: each special address is refused with its own reason,
// the ordinary third host is still admitted.
TEST(SpecialAddress, RefusedWhateverTheBouncePolicy) {
  for (const bool bounce : {true, false}) {
    EngineConfig cfg;
    cfg.allowBounce = bounce;
    cfg.gatewayAddresses[0] = ipFromText("198.18.0.1");
    EngineHarness h(cfg);
    h.handshake();
    h.send(Dir::S2C, "220 ready\r\n");
    for (std::string_view line : {"PORT 127,0,0,1,195,80\r\n", "PORT 0,0,0,0,195,80\r\n",
                                  "PORT 255,255,255,255,195,80\r\n", "PORT 224,0,0,1,195,80\r\n",
                                  "PORT 169,254,0,1,195,80\r\n", "PORT 198,18,0,1,195,80\r\n"}) {
      h.send(Dir::C2S, line);
      h.send(Dir::S2C, "200 ok\r\n");
      ASSERT_FALSE(h.events.empty());
      EXPECT_EQ(h.events.back().verdict, Verdict::Refuse) << line;
      EXPECT_EQ(h.events.back().reason, Reason::SpecialAddress) << line;
      EXPECT_FALSE(h.events.back().hasExpect) << line;
    }
    h.send(Dir::C2S, "PORT 203,0,113,9,195,80\r\n");
    EXPECT_EQ(h.events.back().verdict, bounce ? Verdict::Admit : Verdict::Refuse);
    if (!bounce) {
      EXPECT_EQ(h.events.back().reason, Reason::BounceAddress);
    }
  }
}

TEST(SpecialAddress, PassiveReplyToAMulticastGroupIsRefused) {
  EngineConfig cfg;
  cfg.allowBounce = true;
  EngineHarness h(cfg, {.v6 = true});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "EPRT |2|ff02::1|6000|\r\n");
  EXPECT_EQ(h.events.back().reason, Reason::SpecialAddress);
  h.send(Dir::C2S, "EPRT |2|::1|6000|\r\n");
  EXPECT_EQ(h.events.back().reason, Reason::SpecialAddress);
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (224,0,0,9,23,112)\r\n");
  EXPECT_EQ(h.events.back().verdict, Verdict::Refuse);
}

// A peer on loopback announcing its own address is not a bounce and stays admitted.
TEST(SpecialAddress, ThePeersOwnAddressIsNotRefused) {
  Engine engine(EngineConfig{}, nullptr);
  const Endpoint c = endpoint("127.0.0.1:40000");
  const Endpoint sv = endpoint("127.0.0.1:21");
  auto feed = [&](std::vector<uint8_t> pkt) {
    const PacketParse pp = parsePacket(pkt);
    Actions acts;
    engine.onSegment(Segment{&pp.view, 1}, 1, acts);
    return acts;
  };
  feed(PacketBuilder().v4(c, sv).seq(100).flags(TcpSyn).build());
  feed(PacketBuilder().v4(sv, c).seq(500).ack(101).flags(TcpSyn | TcpAck).build());
  const Actions a = feed(
      PacketBuilder().v4(c, sv).seq(101).ack(501).payload("PORT 127,0,0,1,195,80\r\n").build());
  ASSERT_EQ(a.eventCount, 1u);
  EXPECT_EQ(a.events[0].verdict, Verdict::Admit);
}

}  // namespace
}  // namespace ftpalg::test
