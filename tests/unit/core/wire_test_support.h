// Shared by the tests of the FTP wire-form files (line framing, reply tracking, command
// classification, address parsers and formatters): printers for the parse enums, case naming,
// and the stream harness that feeds frameLine as an engine would.
#pragma once

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/ftp_parser.h"
#include "tests/support/guard_buffer.h"

namespace ftpalg::core {

// Found by argument-dependent lookup when an assertion prints a ParseError or ParseStatus.
inline void PrintTo(ParseError e, std::ostream* os) { *os << parseErrorName(e); }
inline void PrintTo(ParseStatus s, std::ostream* os) {
  *os << (s == ParseStatus::Ok ? "Ok" : s == ParseStatus::NeedMore ? "NeedMore" : "Invalid");
}

}  // namespace ftpalg::core

namespace ftpalg::test {

inline constexpr size_t kMaxLine = 4096;

// Names each parameterised case after its table row.
struct CaseName {
  template <class P>
  std::string operator()(const ::testing::TestParamInfo<P>& p) const {
    return p.param.name;
  }
};

// One result of framing a stream: a line (Ok) or an error.
struct FrameEvent {
  core::ParseStatus status = core::ParseStatus::NeedMore;
  core::ParseError error = core::ParseError::None;
  std::string text;  // line text for Ok
  friend bool operator==(const FrameEvent&, const FrameEvent&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const FrameEvent& e) {
  PrintTo(e.status, &os);
  os << "/" << parseErrorName(e.error) << " \"";
  for (char c : e.text) {
    if (c >= 32 && c < 127) {
      os << c;
    } else {
      os << "\\x" << std::hex << static_cast<int>(static_cast<unsigned char>(c)) << std::dec;
    }
  }
  return os << "\"";
}

// Drives frameLine as an engine would: bytes arrive in chunks ending at `cuts`; Ok lines and
// errors with `consumed` > 0 are dropped from the pending buffer; an error with consumed == 0
// discards input through the next LF. Every frameLine call reads from a guard-page buffer.
inline std::vector<FrameEvent> frameStream(std::string_view wire, size_t maxLine,
                                           const std::vector<size_t>& cuts) {
  std::vector<FrameEvent> events;
  std::string pending;
  bool discarding = false;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(wire.size());
  for (size_t end : ends) {
    pending.append(wire.substr(from, end - from));
    from = end;
    while (!pending.empty()) {
      if (discarding) {
        const size_t lf = pending.find('\n');
        if (lf == std::string::npos) {
          pending.clear();
          break;
        }
        pending.erase(0, lf + 1);
        discarding = false;
        continue;
      }
      const GuardBuffer g(pending);
      const core::LineFrame f = core::frameLine(g.view(), maxLine);
      if (f.status == core::ParseStatus::NeedMore) {
        EXPECT_EQ(f.error, core::ParseError::None);
        EXPECT_EQ(f.consumed, 0U);
        break;
      }
      FrameEvent ev{f.status, f.error, {}};
      if (f.status == core::ParseStatus::Ok) {
        EXPECT_LE(f.length, maxLine);
        EXPECT_LE(f.length + 1, f.consumed);
        EXPECT_LE(f.consumed, f.length + 2);
        EXPECT_EQ(pending[f.consumed - 1], '\n');
        ev.text = pending.substr(0, f.length);
      }
      events.push_back(ev);
      if (f.consumed == 0) {
        EXPECT_EQ(f.status, core::ParseStatus::Invalid);
        EXPECT_EQ(pending.find('\n'), std::string::npos) << "consumed 0 although an LF is there";
        pending.clear();
        discarding = true;
        break;
      }
      EXPECT_LE(f.consumed, pending.size());
      pending.erase(0, f.consumed);
    }
  }
  return events;
}

// Cut points after every byte of an n-byte stream.
inline std::vector<size_t> byteCuts(size_t n) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

}  // namespace ftpalg::test
