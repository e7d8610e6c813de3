// Enum-to-name tables that cannot drift from their enum: one {value, name} row per
// enumerator, checked at compile time to list every value once, in order, with a name. Small
// enums outside the core are declared with an X-macro list, so the enum and its table are
// written from the same rows.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ftpalg {

// One enumerator and its stable name.
template <typename E>
struct NameRow {
  E value;
  std::string_view name;
};

// True when rows[i].value == i for every row, there are `count` rows, no name is empty and no
// name repeats. Use: static_assert(completeNameTable(kRows, size_t(E::Count))).
template <typename E, size_t N>
constexpr bool completeNameTable(const NameRow<E> (&rows)[N], size_t count) {
  if (N != count) return false;
  for (size_t i = 0; i < N; ++i) {
    if (static_cast<size_t>(rows[i].value) != i || rows[i].name.empty()) return false;
    for (size_t j = 0; j < i; ++j) {
      if (rows[j].name == rows[i].name) return false;
    }
  }
  return true;
}

// The name of `e`, or "unknown" for a value outside the table.
template <typename E, size_t N>
constexpr std::string_view nameOf(const NameRow<E> (&rows)[N], E e) {
  const auto i = static_cast<size_t>(e);
  return i < N ? rows[i].name : std::string_view("unknown");
}

// The value named `name`; false (and `out` untouched) when no row has that name.
template <typename E, size_t N>
constexpr bool valueOf(const NameRow<E> (&rows)[N], std::string_view name, E& out) {
  for (const auto& row : rows) {
    if (row.name == name) {
      out = row.value;
      return true;
    }
  }
  return false;
}

// "a, b, c": the names in table order, for messages that list the valid choices.
template <typename E, size_t N>
std::string namesList(const NameRow<E> (&rows)[N]) {
  std::string out;
  for (const auto& row : rows) {
    if (!out.empty()) out += ", ";
    out += row.name;
  }
  return out;
}

}  // namespace ftpalg

// X-macro helper: a list `#define FTPALG_LOG_LEVELS(X) X(Error, "error") X(Warning, "warning")`
// declares the enum with `enum class LogLevel { FTPALG_LOG_LEVELS(FTPALG_ENUM_VALUE) };` and its
// table with a row macro of the same two arguments, so neither can gain a value the other lacks.
#define FTPALG_ENUM_VALUE(value, name) value,
