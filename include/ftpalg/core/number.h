// The one strict number parser: whole string, digits only (no sign, space or prefix), a bounded
// digit count and an inclusive range. Used for wire text, options, config keys and test input
// alike, so "what counts as a number" is decided once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace ftpalg::core {

// Base of a number's text.
enum class NumberBase : uint8_t { Decimal = 10, Hex = 16 };

// Parses all of `text` as an unsigned number in [lo, hi] with at most `maxDigits` digits.
// false (and `out` untouched) for an empty text, any non-digit, too many digits, overflow or a
// value out of range. Leading zeros are digits like any other (the digit bound limits them).
template <typename T>
bool parseNumber(std::string_view text, T& out, T lo, T hi,
                 size_t maxDigits = std::numeric_limits<T>::digits10 + 1,
                 NumberBase base = NumberBase::Decimal) {
  static_assert(std::numeric_limits<T>::is_integer && !std::numeric_limits<T>::is_signed);
  if (text.empty() || text.size() > maxDigits) return false;
  // One pass: check each digit and accumulate (a loop the compiler inlines on the packet path).
  const auto b = static_cast<uint64_t>(base);
  // 19 decimal or 16 hex digits always fit 64 bits; only longer texts need the overflow check.
  const bool mayOverflow = text.size() > (base == NumberBase::Hex ? 16u : 19u);
  uint64_t v = 0;
  for (const char c : text) {
    uint64_t d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint64_t>(c - '0');
    } else if (base == NumberBase::Hex && c >= 'a' && c <= 'f') {
      d = static_cast<uint64_t>(c - 'a' + 10);
    } else if (base == NumberBase::Hex && c >= 'A' && c <= 'F') {
      d = static_cast<uint64_t>(c - 'A' + 10);
    } else {
      return false;
    }
    if (mayOverflow && v > (UINT64_MAX - d) / b) return false;
    v = v * b + d;
  }
  if (v < lo || v > hi) return false;
  out = static_cast<T>(v);
  return true;
}

// "0xf7a1" (at most 8 hex digits) or "63393" (at most 10 decimal digits), in [lo, hi].
template <typename T>
bool parseDecimalOrHex(std::string_view text, T& out, T lo, T hi) {
  if (text.starts_with("0x") || text.starts_with("0X")) {
    return parseNumber(text.substr(2), out, lo, hi, 2 * sizeof(T), NumberBase::Hex);
  }
  return parseNumber(text, out, lo, hi, std::numeric_limits<T>::digits10 + 1);
}

}  // namespace ftpalg::core
