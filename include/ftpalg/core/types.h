// Value types shared by every layer of the sans-I/O core.
// Plain structs, no allocation, no syscalls. Views never outlive the buffer they point into.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ftpalg::core {

// Address family of an IpAddr (values match RFC 2428's EPRT net-prt: 1 = IPv4, 2 = IPv6).
enum class Family : uint8_t { None = 0, V4 = 1, V6 = 2 };

// An IPv4 or IPv6 address in network byte order; IPv4 uses bytes[0..3], the rest are zero.
struct IpAddr {
  Family family = Family::None;
  std::array<uint8_t, 16> bytes{};

  static IpAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    IpAddr r;
    r.family = Family::V4;
    r.bytes[0] = a;
    r.bytes[1] = b;
    r.bytes[2] = c;
    r.bytes[3] = d;
    return r;
  }
  static IpAddr v6(const std::array<uint8_t, 16>& b) {
    IpAddr r;
    r.family = Family::V6;
    r.bytes = b;
    return r;
  }
  [[nodiscard]] size_t size() const { return family == Family::V4 ? 4 : 16; }
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

// Address plus TCP port (host byte order).
struct Endpoint {
  IpAddr addr;
  uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

// Direction of a control-connection segment.
enum class Dir : uint8_t { C2S = 0, S2C = 1 };

inline constexpr Dir opposite(Dir d) { return d == Dir::C2S ? Dir::S2C : Dir::C2S; }

// Formats "1.2.3.4" or "2001:db8::1" (RFC 5952; IPv4-mapped as "::ffff:1.2.3.4") into out;
// returns the length written, 0 for Family::None or when the text does not fit. 46 bytes
// always suffice.
size_t formatIp(const IpAddr& a, std::span<char> out);
// Formats "1.2.3.4:21" or "[2001:db8::1]:21"; out must hold at least 54 bytes.
size_t formatEndpoint(const Endpoint& e, std::span<char> out);
// Strict textual address parse (dotted quad or RFC 4291 text). Whole string, no spaces. Dotted
// quads refuse leading zeros ("010.0.0.1": octal to inet_aton); IPv6 takes "::" once, an
// embedded dotted quad at the end, no zone index or brackets. `out` is untouched on failure.
bool parseIp(std::string_view text, IpAddr& out);

}  // namespace ftpalg::core
