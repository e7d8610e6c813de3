#include "cli/link_layer.h"

#include <pcap/dlt.h>

namespace ftpalg::cli {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;
constexpr uint16_t kEtherTypeVlan = 0x8100;     // 802.1Q
constexpr uint16_t kEtherTypeQinQ = 0x88a8;     // 802.1ad
constexpr uint16_t kEtherTypeQinQOld = 0x9100;  // pre-standard double tagging
constexpr size_t kMaxVlanTags = 8;
constexpr int kLinktypeRaw = 101;  // LINKTYPE_RAW, should a libpcap hand it through unmapped

constexpr size_t kEthernetHeader = 14;
constexpr size_t kSllHeader = 16;
constexpr size_t kSll2Header = 20;
constexpr size_t kNullHeader = 4;
constexpr size_t kVlanTag = 4;

uint16_t be16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>((b[at] << 8) | b[at + 1]);
}

uint32_t be32(std::span<const uint8_t> b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) |
         uint32_t{b[at + 3]};
}

bool isVlanTag(uint16_t etherType) {
  return etherType == kEtherTypeVlan || etherType == kEtherTypeQinQ ||
         etherType == kEtherTypeQinQOld;
}

// Length of the IP packet starting at ip, by its own length field when plausible.
size_t boundedIpLength(std::span<const uint8_t> ip) {
  if (ip.empty()) return 0;
  const unsigned version = ip[0] >> 4;
  if (version == 4 && ip.size() >= 20) {
    const size_t total = be16(ip, 2);
    if (total >= 20 && total <= ip.size()) return total;
  } else if (version == 6 && ip.size() >= 40) {
    const size_t payload = be16(ip, 4);
    if (payload != 0 && 40 + payload <= ip.size()) return 40 + payload;
  }
  return ip.size();
}

// IP location after a header of `offset` bytes whose EtherType field is at typeAt; VLAN tags
// that follow are skipped (their EtherType sits in their last two bytes).
IpLocation afterEtherType(std::span<const uint8_t> frame, size_t typeAt, size_t offset) {
  if (frame.size() < offset) return {};
  uint16_t type = be16(frame, typeAt);
  for (size_t tags = 0; isVlanTag(type); ++tags) {
    if (tags == kMaxVlanTags || frame.size() < offset + kVlanTag) return {};
    type = be16(frame, offset + 2);
    offset += kVlanTag;
  }
  if (type != kEtherTypeIpv4 && type != kEtherTypeIpv6) return {};
  return {offset, boundedIpLength(frame.subspan(offset))};
}

// IP location when the frame starts with the IP header, checking the version nibble.
IpLocation atOffset(std::span<const uint8_t> frame, size_t offset, unsigned wantVersion) {
  if (frame.size() <= offset) return {};
  const unsigned version = frame[offset] >> 4;
  if (version != 4 && version != 6) return {};
  if (wantVersion != 0 && version != wantVersion) return {};
  return {offset, boundedIpLength(frame.subspan(offset))};
}

// BSD address family values for IPv4 and IPv6 (IPv6 differs between BSDs and Linux).
bool isInetFamily(uint32_t af) {
  return af == 2 /* AF_INET */ || af == 10 /* Linux */ || af == 24 /* NetBSD, OpenBSD */ ||
         af == 28 /* FreeBSD */ || af == 30 /* Darwin */;
}

}  // namespace

std::optional<LinkType> linkTypeFromDlt(int dlt) {
  switch (dlt) {
    case DLT_EN10MB:
      return LinkType::Ethernet;
    case DLT_LINUX_SLL:
      return LinkType::LinuxSll;
    case DLT_LINUX_SLL2:
      return LinkType::LinuxSll2;
    case DLT_RAW:
      return LinkType::Raw;
    case kLinktypeRaw:
      return LinkType::Raw;
    case DLT_IPV4:
      return LinkType::Ipv4;
    case DLT_IPV6:
      return LinkType::Ipv6;
    case DLT_NULL:
      return LinkType::Null;
    case DLT_LOOP:
      return LinkType::Loop;
    default:
      return std::nullopt;
  }
}

std::string_view linkTypeName(LinkType t) {
  switch (t) {
    case LinkType::Ethernet:
      return "ethernet";
    case LinkType::LinuxSll:
      return "linux_sll";
    case LinkType::LinuxSll2:
      return "linux_sll2";
    case LinkType::Raw:
      return "raw";
    case LinkType::Ipv4:
      return "ipv4";
    case LinkType::Ipv6:
      return "ipv6";
    case LinkType::Null:
      return "null";
    case LinkType::Loop:
      return "loop";
  }
  return "unknown";
}

IpLocation locateIp(LinkType t, std::span<const uint8_t> frame) {
  switch (t) {
    case LinkType::Ethernet:
      return afterEtherType(frame, 12, kEthernetHeader);
    case LinkType::LinuxSll:
      return afterEtherType(frame, 14, kSllHeader);
    case LinkType::LinuxSll2:
      return afterEtherType(frame, 0, kSll2Header);
    case LinkType::Raw:
      return atOffset(frame, 0, 0);
    case LinkType::Ipv4:
      return atOffset(frame, 0, 4);
    case LinkType::Ipv6:
      return atOffset(frame, 0, 6);
    case LinkType::Null:
    case LinkType::Loop: {
      // DLT_NULL is in the capturing host's order, DLT_LOOP in network order; some writers get
      // DLT_LOOP wrong too, so accept either order for both and let the version nibble decide.
      if (frame.size() < kNullHeader) return {};
      const uint32_t big = be32(frame, 0);
      const uint32_t little =
          (big >> 24) | ((big >> 8) & 0xff00) | ((big << 8) & 0xff0000) | (big << 24);
      if (!isInetFamily(big) && !isInetFamily(little)) return {};
      return atOffset(frame, kNullHeader, 0);
    }
  }
  return {};
}

}  // namespace ftpalg::cli
