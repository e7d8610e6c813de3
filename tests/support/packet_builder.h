// Test support: builds valid IPv4/IPv6 TCP packets with correct lengths and checksums.
//
//   auto pkt = PacketBuilder()
//                  .v4(endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21"))
//                  .seq(1000).ack(2000).flags(core::TcpAck | core::TcpPsh)
//                  .nop().nop().sack({{5000, 6000}})
//                  .payload("PORT 10,0,0,1,4,1\r\n")
//                  .build();
//
// Checksums are computed by this file's own code (not by the core under test). Options are
// emitted in the order they are added and padded to a 4-byte boundary with EOL bytes.
// Allocation is fine here: this is test code, never on the packet path.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ftpalg/core/packet.h"
#include "ftpalg/core/types.h"

namespace ftpalg::test {

// "192.0.2.1" or "2001:db8::1" (no zone, no embedded dotted quad). Aborts on bad text: tests
// only pass literals.
core::IpAddr ipFromText(std::string_view text);
// "192.0.2.1:21" or "[2001:db8::1]:21".
core::Endpoint endpoint(std::string_view text);
// Address and port.
core::Endpoint endpoint(std::string_view ip, uint16_t port);

// Ones'-complement checksum (RFC 1071) of `data`, as the value to store in the header.
uint16_t internetChecksum(std::span<const uint8_t> data);

// Fluent builder of one TCP/IP packet. Defaults: flags ACK, window 65535, TTL/hop limit 64.
class PacketBuilder {
 public:
  PacketBuilder& v4(const core::Endpoint& src, const core::Endpoint& dst);
  PacketBuilder& v6(const core::Endpoint& src, const core::Endpoint& dst);

  PacketBuilder& seq(uint32_t v);
  PacketBuilder& ack(uint32_t v);
  PacketBuilder& flags(uint8_t v);
  PacketBuilder& window(uint16_t v);
  PacketBuilder& ttl(uint8_t v);
  PacketBuilder& ipId(uint16_t v);

  // TCP options, in order of the calls.
  PacketBuilder& mss(uint16_t v);
  PacketBuilder& sack(std::initializer_list<core::SackBlock> blocks);
  PacketBuilder& sack(std::span<const core::SackBlock> blocks);
  PacketBuilder& timestamps(uint32_t tsval, uint32_t tsecr);
  PacketBuilder& wscale(uint8_t shift);
  PacketBuilder& sackPermitted();
  PacketBuilder& nop(size_t count = 1);
  PacketBuilder& eol();
  PacketBuilder& rawOption(std::span<const uint8_t> bytes);  // copied verbatim

  PacketBuilder& payload(std::string_view text);
  PacketBuilder& payload(std::span<const uint8_t> bytes);

  // IPv4 header options (padded to 4 bytes with EOL) and fragment fields.
  PacketBuilder& ipv4Options(std::span<const uint8_t> bytes);
  PacketBuilder& ipv4Fragment(uint16_t offsetUnits, bool moreFragments);

  // IPv6 extension headers, in order of the calls, before TCP. Lengths are encoded for you.
  PacketBuilder& hopByHop(size_t padBytes = 6);     // PadN options; 6 => 8-byte header
  PacketBuilder& destOptions(size_t padBytes = 6);  // likewise, next header 60
  // Routing header: type 2 for one address, type 0 otherwise; final destination = last one.
  PacketBuilder& routing(std::initializer_list<core::IpAddr> addrs, uint8_t segmentsLeft);
  PacketBuilder& fragmentHeader(uint16_t offsetUnits = 0, bool moreFragments = false);
  PacketBuilder& ah(size_t icvBytes = 12);  // authentication header with a zero ICV
  // Any extension header: `body` follows the next-header byte (length byte included).
  PacketBuilder& extHeader(uint8_t type, std::span<const uint8_t> body);

  // Overrides: a fixed TCP checksum (e.g. 0 or garbage), and bytes appended after the IP
  // packet (Ethernet padding; not counted in the IP length fields).
  PacketBuilder& tcpChecksum(uint16_t v);
  PacketBuilder& trailer(size_t bytes, uint8_t fill = 0);

  [[nodiscard]] std::vector<uint8_t> build() const;

 private:
  struct Ext {
    uint8_t type;
    std::vector<uint8_t> body;
  };
  core::Family family_ = core::Family::None;
  core::Endpoint src_;
  core::Endpoint dst_;
  uint32_t seq_ = 0;
  uint32_t ack_ = 0;
  uint8_t flags_ = core::TcpAck;
  uint16_t window_ = 65535;
  uint8_t ttl_ = 64;
  uint16_t ipId_ = 0x1234;
  uint16_t fragField_ = 0x4000;  // DF
  std::vector<uint8_t> tcpOptions_;
  std::vector<uint8_t> ipOptions_;
  std::vector<Ext> ext_;
  std::vector<uint8_t> payload_;
  std::optional<uint16_t> tcpChecksum_;
  std::optional<core::IpAddr> finalDst_;
  size_t trailer_ = 0;
  uint8_t trailerFill_ = 0;
};

}  // namespace ftpalg::test
