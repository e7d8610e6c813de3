// Character classes of FTP control-channel text, shared by the wire-form files (line framing,
// command classification, reply tracking, the address parsers and formatters). Core-internal.
#pragma once

#include <cstddef>
#include <string_view>

namespace ftpalg::core {

inline constexpr size_t kVerbLen = 4;  // every verb the core reads has four letters

inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline char toUpper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
inline bool isAlnum(char c) { return isDigit(c) || (toUpper(c) >= 'A' && toUpper(c) <= 'Z'); }
// RFC 2428 delimiter range. Digits are refused too: a digit delimiter makes the number fields
// ambiguous (a client and the ALG could split "1114461" differently).
inline bool isDelimiter(char c) { return c >= 33 && c <= 126 && !isDigit(c); }
inline bool isPunct(char c) { return c >= 33 && c <= 126 && !isAlnum(c); }

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toUpper(a[i]) != toUpper(b[i])) return false;
  }
  return true;
}

}  // namespace ftpalg::core
