// The event schema, shared by the CLI and the daemon: a small streaming JSON writer and the
// JSON-lines form of a core::Event.
//
// Ownership: JsonWriter appends to a caller-owned fmt::memory_buffer; nothing else is kept.
#pragma once

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ftpalg/core/engine.h"

namespace ftpalg::report {

// Writes compact JSON (no spaces) into a buffer; inserts commas itself. Keys and strings are
// escaped per RFC 8259; bytes that are not valid UTF-8 become U+FFFD. Nesting deeper than
// kMaxDepth is a programming error (checked by assert).
class JsonWriter {
 public:
  static constexpr size_t kMaxDepth = 16;

  explicit JsonWriter(fmt::memory_buffer& out) : out_(out) {}

  void beginObject();
  void endObject();
  void beginArray();
  void endArray();
  // Object key; the next call writes its value.
  void key(std::string_view k);
  void string(std::string_view s);
  void number(uint64_t n);
  void number(int64_t n);
  // A fixed-point number "12.345678" from an integer and a decimal-digit count (no float
  // rounding): fixed(12345678, 6).
  void fixed(uint64_t scaled, unsigned decimals);
  void boolean(bool b);
  void null();
  // A value already encoded as JSON by another writer (e.g. appendEventJson), copied as is.
  void rawValue(std::string_view json);

 private:
  void raw(std::string_view s);
  void separate();
  void escaped(std::string_view s);

  fmt::memory_buffer& out_;
  std::array<bool, kMaxDepth> first_{};  // per open container: no member written yet
  size_t depth_ = 0;
  bool afterKey_ = false;
};

// Appends one event as a single-line JSON object (no trailing newline):
// {"ts":1700000000.000123,"flow":"10.0.0.2:40000-192.0.2.1:21","dir":"c2s","kind":"port",
//  "announced":"10.0.0.2:50000","rewritten":"198.51.100.7:50000","expect":{"proto":"tcp",
//  "src":"192.0.2.1","src_port":"any","dst":"198.51.100.7:50000","nat_to":"10.0.0.2:50000"},
//  "verdict":"admit","reason":"rewritten"}
// "parse_error" follows "reason" only when the event carries one.
void appendEventJson(const core::Event& event, fmt::memory_buffer& out);

}  // namespace ftpalg::report
