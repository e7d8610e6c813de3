// IPv4/IPv6 + TCP packet layer: parse a raw IP packet into a view, and rebuild it with new
// sequence/acknowledgement numbers, SACK blocks and payload, fixing lengths and checksums.
//
// Ownership: PacketView points into the caller's buffer and lives as long as it. rebuildPacket
// writes into a caller-provided buffer; nothing is allocated.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ftpalg/core/types.h"

namespace ftpalg::core {

// TCP flag bits (RFC 9293).
enum TcpFlag : uint8_t {
  TcpFin = 0x01,
  TcpSyn = 0x02,
  TcpRst = 0x04,
  TcpPsh = 0x08,
  TcpAck = 0x10,
  TcpUrg = 0x20,
  TcpEce = 0x40,
  TcpCwr = 0x80
};

// One SACK block [left, right) in sequence space (RFC 2018).
struct SackBlock {
  uint32_t left = 0;
  uint32_t right = 0;
  friend bool operator==(const SackBlock&, const SackBlock&) = default;
};

inline constexpr size_t kMaxSackBlocks = 4;

// Why a packet could not be parsed. Closed set; adapters count each one.
enum class PacketError : uint8_t {
  None = 0,
  Truncated,     // buffer shorter than a header or a length field says
  BadVersion,    // not IPv4 or IPv6
  BadIpHeader,   // IHL < 5, total length < header, bad extension header length
  Fragment,      // IPv4 fragment or IPv6 fragment header (never reassembled here)
  NotTcp,        // upper-layer protocol is not TCP
  BadTcpHeader,  // data offset < 5 or beyond the packet
  BadTcpOption,  // option length 0/1 or running past the header
  Count
};

std::string_view packetErrorName(PacketError e);

// A parsed TCP/IP packet. All offsets are from the start of the IP header.
struct PacketView {
  Family family = Family::None;
  IpAddr src;
  IpAddr dst;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  uint16_t window = 0;
  uint16_t l4Offset = 0;      // start of the TCP header (after IPv6 extension headers)
  uint16_t tcpHeaderLen = 0;  // data offset * 4
  uint16_t mss = 0;           // MSS option value, 0 when absent
  uint8_t sackCount = 0;      // SACK blocks present
  uint16_t sackOffset = 0;    // offset of the first SACK block (after kind/len), 0 if none
  std::array<SackBlock, kMaxSackBlocks> sack{};
  std::span<const uint8_t> payload;  // TCP payload, bounded by the IP length fields
};

// Result of parsePacket: error None means `view` is valid.
struct PacketParse {
  PacketError error = PacketError::None;
  PacketView view;
};

// Parses a packet that starts with the IP header (no link layer). IPv6 extension headers
// (hop-by-hop, routing, destination options, AH) are walked; a fragment header is Fragment.
PacketParse parsePacket(std::span<const uint8_t> ip);

// Builds in `out` a copy of `orig` (parsed as `view`) with seq, ack and the first
// view.sackCount SACK blocks replaced by `sack` (sack.size() must equal view.sackCount), and
// the payload replaced by `payload`. Fixes IPv4 total length and header checksum, IPv6
// payload length, and computes the TCP checksum from scratch (never incrementally: queued
// packets may carry a not-yet-computed checksum). Returns the new length, or 0 when `out` is
// too small or the new packet would exceed 65535 bytes.
size_t rebuildPacket(std::span<const uint8_t> orig, const PacketView& view, uint32_t seq,
                     uint32_t ack, std::span<const SackBlock> sack,
                     std::span<const uint8_t> payload, std::span<uint8_t> out);

// Verifies the TCP checksum of a parsed packet (tests and replay diagnostics).
bool tcpChecksumValid(std::span<const uint8_t> ip, const PacketView& view);

}  // namespace ftpalg::core
