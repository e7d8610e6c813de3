#include "cli/link_layer.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

#include <cstdint>
#include <vector>

#include "tests/support/packet_builder.h"
#include "tests/unit/cli/capture_test_util.h"

namespace ftpalg::test {

using namespace ftpalg::cli;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

std::vector<uint8_t> ipv4Packet() {
  return PacketBuilder()
      .v4(endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21"))
      .payload("PASV\r\n")
      .build();
}

std::vector<uint8_t> ipv6Packet() {
  return PacketBuilder()
      .v6(endpoint("[2001:db8::1]:40000"), endpoint("[2001:db8::2]:21"))
      .payload("EPSV\r\n")
      .build();
}

std::vector<uint8_t> ether(uint16_t type) {
  return {0,
          1,
          2,
          3,
          4,
          5,
          6,
          7,
          8,
          9,
          10,
          11,
          static_cast<uint8_t>(type >> 8),
          static_cast<uint8_t>(type)};
}

std::vector<uint8_t> tag(uint16_t vid, uint16_t next) {
  return {static_cast<uint8_t>(vid >> 8), static_cast<uint8_t>(vid),
          static_cast<uint8_t>(next >> 8), static_cast<uint8_t>(next)};
}

TEST(LinkLayer, SupportedDlts) {
  EXPECT_EQ(linkTypeFromDlt(DLT_EN10MB), LinkType::Ethernet);
  EXPECT_EQ(linkTypeFromDlt(DLT_LINUX_SLL), LinkType::LinuxSll);
  EXPECT_EQ(linkTypeFromDlt(DLT_LINUX_SLL2), LinkType::LinuxSll2);
  EXPECT_EQ(linkTypeFromDlt(DLT_RAW), LinkType::Raw);
  EXPECT_EQ(linkTypeFromDlt(DLT_IPV4), LinkType::Ipv4);
  EXPECT_EQ(linkTypeFromDlt(DLT_IPV6), LinkType::Ipv6);
  EXPECT_EQ(linkTypeFromDlt(DLT_NULL), LinkType::Null);
  EXPECT_EQ(linkTypeFromDlt(DLT_LOOP), LinkType::Loop);
  EXPECT_EQ(linkTypeFromDlt(DLT_IEEE802_11), std::nullopt);
  EXPECT_EQ(linkTypeFromDlt(DLT_PPP), std::nullopt);
}

TEST(LinkLayer, EthernetIpv4) {
  const auto ip = ipv4Packet();
  const auto frame = concat({ether(0x0800), ip});
  const IpLocation loc = locateIp(LinkType::Ethernet, frame);
  EXPECT_EQ(loc.ipOffset, 14u);
  EXPECT_EQ(loc.ipLength, ip.size());
}

TEST(LinkLayer, EthernetPaddingIsNotPartOfTheIpPacket) {
  const auto ip = ipv4Packet();
  const auto frame = concat({ether(0x0800), ip, std::vector<uint8_t>(12, 0)});
  EXPECT_EQ(locateIp(LinkType::Ethernet, frame).ipLength, ip.size());
  const auto ip6 = ipv6Packet();
  const auto frame6 = concat({ether(0x86dd), ip6, std::vector<uint8_t>(5, 0)});
  EXPECT_EQ(locateIp(LinkType::Ethernet, frame6).ipLength, ip6.size());
}

TEST(LinkLayer, IpLengthBeyondCaptureKeepsWhatIsThere) {
  auto ip = ipv4Packet();
  ip.resize(30);  // snapshot length cut the packet
  const auto frame = concat({ether(0x0800), ip});
  const IpLocation loc = locateIp(LinkType::Ethernet, frame);
  EXPECT_EQ(loc.ipOffset, 14u);
  EXPECT_EQ(loc.ipLength, 30u);
}

TEST(LinkLayer, EthernetSingleVlanTag) {
  const auto ip = ipv6Packet();
  const auto frame = concat({ether(0x8100), tag(100, 0x86dd), ip});
  const IpLocation loc = locateIp(LinkType::Ethernet, frame);
  EXPECT_EQ(loc.ipOffset, 18u);
  EXPECT_EQ(loc.ipLength, ip.size());
}

TEST(LinkLayer, EthernetDoubleVlanTag) {
  const auto ip = ipv4Packet();
  const auto frame = concat({ether(0x88a8), tag(10, 0x8100), tag(20, 0x0800), ip});
  const IpLocation loc = locateIp(LinkType::Ethernet, frame);
  EXPECT_EQ(loc.ipOffset, 22u);
  EXPECT_EQ(loc.ipLength, ip.size());
}

TEST(LinkLayer, EthernetTooManyTagsIsNotIp) {
  std::vector<uint8_t> frame = ether(0x8100);
  for (int i = 0; i < 9; ++i) frame = concat({frame, tag(1, 0x8100)});
  frame = concat({frame, tag(1, 0x0800), ipv4Packet()});
  EXPECT_EQ(locateIp(LinkType::Ethernet, frame).ipLength, 0u);
}

TEST(LinkLayer, EthernetNonIp) {
  const auto arp = concat({ether(0x0806), std::vector<uint8_t>(28, 0)});
  EXPECT_EQ(locateIp(LinkType::Ethernet, arp).ipLength, 0u);
}

TEST(LinkLayer, ShortHeadersAreNotIp) {
  const std::vector<uint8_t> shortEther(13, 0);
  EXPECT_EQ(locateIp(LinkType::Ethernet, shortEther).ipLength, 0u);
  const auto cutTag = concat({ether(0x8100), std::vector<uint8_t>{0, 1}});
  EXPECT_EQ(locateIp(LinkType::Ethernet, cutTag).ipLength, 0u);
  EXPECT_EQ(locateIp(LinkType::LinuxSll, std::vector<uint8_t>(15, 0)).ipLength, 0u);
  EXPECT_EQ(locateIp(LinkType::LinuxSll2, std::vector<uint8_t>(19, 0)).ipLength, 0u);
  EXPECT_EQ(locateIp(LinkType::Null, std::vector<uint8_t>{2, 0, 0}).ipLength, 0u);
  EXPECT_EQ(locateIp(LinkType::Raw, std::vector<uint8_t>{}).ipLength, 0u);
}

TEST(LinkLayer, LinuxCookedV1) {
  const auto ip = ipv4Packet();
  // packet type, ARPHRD_ETHER, address length 6, 8 address bytes, protocol
  const std::vector<uint8_t> sll{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00};
  const auto frame = concat({sll, ip});
  const IpLocation loc = locateIp(LinkType::LinuxSll, frame);
  EXPECT_EQ(loc.ipOffset, 16u);
  EXPECT_EQ(loc.ipLength, ip.size());
}

TEST(LinkLayer, LinuxCookedV2) {
  const auto ip = ipv6Packet();
  // protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address
  const std::vector<uint8_t> sll2{0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0};
  const auto frame = concat({sll2, ip});
  const IpLocation loc = locateIp(LinkType::LinuxSll2, frame);
  EXPECT_EQ(loc.ipOffset, 20u);
  EXPECT_EQ(loc.ipLength, ip.size());
}

TEST(LinkLayer, RawTellsVersionsApart) {
  EXPECT_EQ(locateIp(LinkType::Raw, ipv4Packet()).ipLength, ipv4Packet().size());
  EXPECT_EQ(locateIp(LinkType::Raw, ipv6Packet()).ipLength, ipv6Packet().size());
  EXPECT_EQ(locateIp(LinkType::Raw, std::vector<uint8_t>{0x50, 0, 0, 0}).ipLength, 0u);
}

TEST(LinkLayer, Ipv4AndIpv6LinkTypesCheckTheVersion) {
  EXPECT_EQ(locateIp(LinkType::Ipv4, ipv4Packet()).ipLength, ipv4Packet().size());
  EXPECT_EQ(locateIp(LinkType::Ipv4, ipv6Packet()).ipLength, 0u);
  EXPECT_EQ(locateIp(LinkType::Ipv6, ipv6Packet()).ipLength, ipv6Packet().size());
  EXPECT_EQ(locateIp(LinkType::Ipv6, ipv4Packet()).ipLength, 0u);
}

TEST(LinkLayer, NullInEitherByteOrder) {
  const auto ip = ipv4Packet();
  const IpLocation little = locateIp(LinkType::Null, concat({{2, 0, 0, 0}, ip}));
  EXPECT_EQ(little.ipOffset, 4u);
  EXPECT_EQ(little.ipLength, ip.size());
  const auto ip6 = ipv6Packet();
  for (const uint8_t af : std::vector<uint8_t>{10, 24, 28, 30}) {
    const IpLocation loc = locateIp(LinkType::Null, concat({{af, 0, 0, 0}, ip6}));
    EXPECT_EQ(loc.ipLength, ip6.size()) << int{af};
  }
  const IpLocation loop = locateIp(LinkType::Loop, concat({{0, 0, 0, 30}, ip6}));
  EXPECT_EQ(loop.ipOffset, 4u);
  EXPECT_EQ(loop.ipLength, ip6.size());
}

TEST(LinkLayer, NullOtherFamilyIsNotIp) {
  EXPECT_EQ(locateIp(LinkType::Null, concat({{7, 0, 0, 0}, ipv4Packet()})).ipLength, 0u);
  EXPECT_EQ(locateIp(LinkType::Loop, concat({{0, 0, 0, 7}, ipv4Packet()})).ipLength, 0u);
}

}  // namespace
}  // namespace ftpalg::test
