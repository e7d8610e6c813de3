// Textual forms of IpAddr and Endpoint: RFC 5952 output, strict dotted-quad / RFC 4291 input.
#include "ftpalg/core/types.h"

#include <array>
#include <charconv>
#include <cstring>

#include "ftpalg/core/number.h"

namespace ftpalg::core {
namespace {

constexpr size_t kMaxIpText = 46;        // INET6_ADDRSTRLEN
constexpr size_t kMaxEndpointText = 54;  // "[" + 45 + "]:" + 5 + NUL

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// One IPv6 group: 1..4 hex digits.
bool parseHexGroup(std::string_view t, uint16_t& out) {
  return parseNumber(t, out, uint16_t{0}, uint16_t{0xffff}, 4, NumberBase::Hex);
}

// Appends the decimal or hex form of v at buf[pos]; returns the new position. buf has room.
size_t putNumber(char* buf, size_t pos, unsigned v, int base) {
  auto r = std::to_chars(buf + pos, buf + pos + 8, v, base);
  return static_cast<size_t>(r.ptr - buf);
}

size_t putV4(char* buf, size_t pos, const uint8_t* b) {
  for (size_t i = 0; i < 4; ++i) {
    if (i > 0) buf[pos++] = '.';
    pos = putNumber(buf, pos, b[i], 10);
  }
  return pos;
}

// RFC 5952: lowercase, no leading zeros, the longest run (first on a tie) of two or more zero
// groups becomes "::", IPv4-mapped addresses (::ffff:0:0/96) end in a dotted quad.
size_t putV6(char* buf, size_t pos, const std::array<uint8_t, 16>& b) {
  static constexpr std::array<uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b.data(), kMapped.data(), kMapped.size()) == 0) {
    std::memcpy(buf + pos, "::ffff:", 7);
    return putV4(buf, pos + 7, b.data() + 12);
  }
  std::array<unsigned, 8> g{};
  for (size_t i = 0; i < 8; ++i) g[i] = static_cast<unsigned>(b[2 * i] << 8 | b[2 * i + 1]);
  size_t bestStart = 8;
  size_t bestLen = 0;
  for (size_t i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = 8;
  for (size_t i = 0; i < 8;) {
    if (i == bestStart) {
      buf[pos++] = ':';
      buf[pos++] = ':';
      i += bestLen;
      continue;
    }
    if (i > 0 && i != bestStart + bestLen) buf[pos++] = ':';
    pos = putNumber(buf, pos, g[i], 16);
    ++i;
  }
  return pos;
}

size_t putIp(char* buf, const IpAddr& a) {
  if (a.family == Family::V4) return putV4(buf, 0, a.bytes.data());
  if (a.family == Family::V6) return putV6(buf, 0, a.bytes);
  return 0;
}

// "192.168.1.2": exactly four decimal fields 0..255, no leading zeros (inet_pton rules, so a
// server reading "010" as octal cannot disagree with us), no signs or spaces.
bool parseV4(std::string_view t, uint8_t* out) {
  size_t pos = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (i > 0) {
      if (pos >= t.size() || t[pos] != '.') return false;
      ++pos;
    }
    size_t end = pos;
    while (end < t.size() && isDigit(t[end])) ++end;
    const size_t digits = end - pos;
    if (digits == 0 || digits > 3 || (digits > 1 && t[pos] == '0')) return false;
    if (!parseNumber(t.substr(pos, digits), out[i], uint8_t{0}, uint8_t{255}, 3)) return false;
    pos = end;
  }
  return pos == t.size();
}

// RFC 4291 section 2.2 text: up to eight 1..4 digit hex groups, at most one "::", optionally
// ending in a dotted quad. No zone index, brackets or prefix length.
bool parseV6(std::string_view t, std::array<uint8_t, 16>& out) {
  std::array<uint16_t, 8> g{};
  size_t n = 0;
  bool hasGap = false;
  size_t gap = 0;  // group index where "::" stands
  size_t pos = 0;
  if (t.size() >= 2 && t[0] == ':' && t[1] == ':') {
    hasGap = true;
    pos = 2;
  } else if (!t.empty() && t[0] == ':') {
    return false;
  }
  while (pos < t.size()) {
    size_t end = pos;
    while (end < t.size() && t[end] != ':' && t[end] != '.') ++end;
    if (end < t.size() && t[end] == '.') {
      // Embedded IPv4: the rest of the text is a dotted quad filling the last 32 bits.
      if (n > 6) return false;
      std::array<uint8_t, 4> v4{};
      if (!parseV4(t.substr(pos), v4.data())) return false;
      g[n++] = static_cast<uint16_t>(v4[0] << 8 | v4[1]);
      g[n++] = static_cast<uint16_t>(v4[2] << 8 | v4[3]);
      pos = t.size();
      break;
    }
    if (n == 8 || !parseHexGroup(t.substr(pos, end - pos), g[n])) return false;
    ++n;
    pos = end;
    if (pos == t.size()) break;
    ++pos;  // ':'
    if (pos < t.size() && t[pos] == ':') {
      if (hasGap) return false;
      hasGap = true;
      gap = n;
      ++pos;
    } else if (pos == t.size()) {
      return false;  // trailing single ':'
    }
  }
  if (!hasGap) {
    if (n != 8) return false;
  } else {
    if (n > 7) return false;
    const size_t tail = n - gap;
    for (size_t i = 0; i < tail; ++i) g[7 - i] = g[n - 1 - i];
    for (size_t i = gap; i < 8 - tail; ++i) g[i] = 0;
  }
  for (size_t i = 0; i < 8; ++i) {
    out[2 * i] = static_cast<uint8_t>(g[i] >> 8);
    out[2 * i + 1] = static_cast<uint8_t>(g[i] & 0xff);
  }
  return true;
}

}  // namespace

size_t formatIp(const IpAddr& a, std::span<char> out) {
  std::array<char, kMaxIpText> buf{};
  const size_t n = putIp(buf.data(), a);
  if (n == 0 || n > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), n);
  return n;
}

size_t formatEndpoint(const Endpoint& e, std::span<char> out) {
  std::array<char, kMaxEndpointText> buf{};
  size_t pos = 0;
  if (e.addr.family == Family::V6) buf[pos++] = '[';
  const size_t n = putIp(buf.data() + pos, e.addr);
  if (n == 0) return 0;
  pos += n;
  if (e.addr.family == Family::V6) buf[pos++] = ']';
  buf[pos++] = ':';
  pos = putNumber(buf.data(), pos, e.port, 10);
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

bool parseIp(std::string_view text, IpAddr& out) {
  if (text.find(':') != std::string_view::npos) {
    std::array<uint8_t, 16> b{};
    if (!parseV6(text, b)) return false;
    out = IpAddr::v6(b);
    return true;
  }
  std::array<uint8_t, 4> b{};
  if (!parseV4(text, b.data())) return false;
  out = IpAddr::v4(b[0], b[1], b[2], b[3]);
  return true;
}

}  // namespace ftpalg::core
