// The announcement formatters: the address text of PORT/227, EPRT, 229 and LPRT/228, written
// so that it parses back to the same endpoint.
#include <array>
#include <charconv>
#include <cstring>

#include "ftpalg/core/ftp_parser.h"
#include "wire_chars.h"

namespace ftpalg::core {

size_t formatPortText(const Endpoint& ep, std::span<char> out) {
  if (ep.addr.family != Family::V4 || ep.port == 0) return 0;
  std::array<char, 24> buf{};
  size_t pos = 0;
  const std::array<unsigned, 6> v{ep.addr.bytes[0],
                                  ep.addr.bytes[1],
                                  ep.addr.bytes[2],
                                  ep.addr.bytes[3],
                                  static_cast<unsigned>(ep.port >> 8),
                                  static_cast<unsigned>(ep.port & 0xff)};
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) buf[pos++] = ',';
    pos = static_cast<size_t>(std::to_chars(buf.data() + pos, buf.data() + buf.size(), v[i]).ptr -
                              buf.data());
  }
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

size_t formatEprtText(const Endpoint& ep, char delim, std::span<char> out) {
  if (ep.port == 0 || !isDelimiter(delim)) return 0;
  if (ep.addr.family != Family::V4 && ep.addr.family != Family::V6) return 0;
  std::array<char, 64> buf{};
  size_t pos = 0;
  buf[pos++] = delim;
  buf[pos++] = ep.addr.family == Family::V4 ? '1' : '2';
  buf[pos++] = delim;
  const size_t n = formatIp(ep.addr, std::span<char>(buf.data() + pos, 46));
  // The delimiter must not occur in the address text, or the line would not parse back.
  if (n == 0 || std::memchr(buf.data() + pos, delim, n) != nullptr) return 0;
  pos += n;
  buf[pos++] = delim;
  pos = static_cast<size_t>(std::to_chars(buf.data() + pos, buf.data() + buf.size(), ep.port).ptr -
                            buf.data());
  buf[pos++] = delim;
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

size_t format229Text(uint16_t port, char delim, std::span<char> out) {
  if (port == 0 || !isDelimiter(delim)) return 0;
  std::array<char, 12> buf{delim, delim, delim};
  size_t pos = 3;
  pos = static_cast<size_t>(std::to_chars(buf.data() + pos, buf.data() + buf.size(), port).ptr -
                            buf.data());
  buf[pos++] = delim;
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

size_t formatLongText(const Endpoint& ep, std::span<char> out) {
  if (ep.port == 0 || (ep.addr.family != Family::V4 && ep.addr.family != Family::V6)) return 0;
  std::array<char, 80> buf{};
  size_t pos = 0;
  auto put = [&](unsigned v) {
    if (pos > 0) buf[pos++] = ',';
    pos = static_cast<size_t>(std::to_chars(buf.data() + pos, buf.data() + buf.size(), v).ptr -
                              buf.data());
  };
  const size_t hal = ep.addr.size();
  put(ep.addr.family == Family::V4 ? 4U : 6U);
  put(static_cast<unsigned>(hal));
  for (size_t i = 0; i < hal; ++i) put(ep.addr.bytes[i]);
  put(2U);
  put(static_cast<unsigned>(ep.port >> 8));
  put(static_cast<unsigned>(ep.port & 0xff));
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

}  // namespace ftpalg::core
