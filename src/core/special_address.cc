#include "special_address.h"

#include <algorithm>
#include <cstdint>

namespace ftpalg::core {

namespace {

bool isSpecialV4(const uint8_t* b) {
  return b[0] == 0 || b[0] == 127 || (b[0] == 169 && b[1] == 254) || b[0] >= 224;
}

}  // namespace

bool isSpecialAddress(const IpAddr& a) {
  const auto& b = a.bytes;
  if (a.family == Family::V4) return isSpecialV4(b.data());
  if (a.family != Family::V6) return true;  // no address at all
  const bool zero10 = std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; });
  if (zero10 && b[10] == 0xff && b[11] == 0xff) return isSpecialV4(b.data() + 12);  // ::ffff:v4
  const bool zero15 =
      zero10 && std::all_of(b.begin() + 10, b.begin() + 15, [](uint8_t x) { return x == 0; });
  if (zero15 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
  if (b[0] == 0xff) return true;                          // multicast
  return b[0] == 0xfe && (b[1] & 0xc0) == 0x80;           // link-local
}

bool isListedAddress(const IpAddr& a, std::span<const IpAddr> own) {
  return std::find(own.begin(), own.end(), a) != own.end() && a.family != Family::None;
}

}  // namespace ftpalg::core
