// Link-layer framing of captured frames: which libpcap link types replay understands and where
// the IP packet starts inside a frame. Pure functions over the caller's bytes; nothing is copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ftpalg::cli {

// A link-layer header format replay can strip (named after the libpcap DLT).
enum class LinkType : uint8_t {
  Ethernet,   // DLT_EN10MB, with any number of 802.1Q / 802.1ad tags
  LinuxSll,   // DLT_LINUX_SLL: Linux "cooked" capture v1 (16-byte header)
  LinuxSll2,  // DLT_LINUX_SLL2: Linux "cooked" capture v2 (20-byte header)
  Raw,        // DLT_RAW / LINKTYPE_RAW: IPv4 or IPv6, told apart by the version nibble
  Ipv4,       // DLT_IPV4
  Ipv6,       // DLT_IPV6
  Null,       // DLT_NULL: 4-byte address family in the capturing host's byte order
  Loop,       // DLT_LOOP: 4-byte address family in network byte order
};

// The LinkType of a libpcap DLT value, or nullopt when replay does not support it.
std::optional<LinkType> linkTypeFromDlt(int dlt);

// Short name for messages: "ethernet", "linux_sll", "raw", ...
std::string_view linkTypeName(LinkType t);

// Where the IP packet sits in a frame. ipLength == 0: the frame carries no IPv4/IPv6 packet
// (ARP, LLDP, a header cut short by the snapshot length, ...); ipOffset is then meaningless.
struct IpLocation {
  size_t ipOffset = 0;  // bytes of link-layer header before the IP header
  size_t ipLength = 0;  // IP packet length, bounded by its length field when that is plausible
};

// Ethernet "6 dst, 6 src, [0x8100 tag]*, 0x0800" -> {ipOffset 14 + 4 * tags, ...}.
// The IP length is the IPv4 total length or 40 + IPv6 payload length when it fits in the frame
// (so Ethernet padding is excluded), otherwise everything after the link header (parsePacket
// then reports the packet as truncated).
IpLocation locateIp(LinkType t, std::span<const uint8_t> frame);

}  // namespace ftpalg::cli
