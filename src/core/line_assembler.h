// Line assembly: new bytes of one direction in, whole lines with the sequence number of their
// first byte out. A line split across segments is kept in the direction's line buffer; a bad
// or overlong line is reported once and skipped through its LF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ftpalg/core/ftp_parser.h"

namespace ftpalg::core {

// Receives what the assembler finds. Views are valid only during the call.
class LineSink {
 public:
  virtual ~LineSink() = default;
  // True when nothing more is parsed in this direction (TLS): the assembler stops.
  virtual bool stopped() = 0;
  virtual void onLine(std::string_view line, uint32_t lineSeq) = 0;
  // A line that could not be framed (`line` is what there is of it).
  virtual void onBadLine(std::string_view line, ParseError error) = 0;
};

// The direction's assembly state: where the current line starts and whether its rest is
// being skipped; the partial line lives in `buffer` (capacity maxLine + 2).
struct LineCursor {
  uint32_t& lineStart;
  bool& discard;
  std::span<char> buffer;
  uint32_t& lineLen;
};

// Feeds `len` new bytes starting at original sequence number `seq`.
void assembleLines(LineCursor c, const uint8_t* data, uint32_t len, uint32_t seq, size_t maxLine,
                   LineSink& sink);

}  // namespace ftpalg::core
