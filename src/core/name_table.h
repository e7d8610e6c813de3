// Enum-to-name tables that cannot drift from their enum: one {value, name} row per
// enumerator, checked at compile time to list every value once, in order, with a name.
#pragma once

#include <cstddef>
#include <string_view>

namespace ftpalg::core {

// One enumerator and its stable name.
template <typename E>
struct NameRow {
  E value;
  std::string_view name;
};

// True when rows[i].value == i for every row, there are `count` rows and no name is empty.
// Use: static_assert(completeNameTable(kRows, size_t(E::Count))).
template <typename E, size_t N>
constexpr bool completeNameTable(const NameRow<E> (&rows)[N], size_t count) {
  if (N != count) return false;
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(rows[i].value) != i || rows[i].name.empty()) return false;
  }
  return true;
}

// The name of `e`, or "unknown" for a value outside the table.
template <typename E, size_t N>
constexpr std::string_view nameOf(const NameRow<E> (&rows)[N], E e) {
  const auto i = static_cast<size_t>(e);
  return i < N ? rows[i].name : std::string_view("unknown");
}

}  // namespace ftpalg::core
