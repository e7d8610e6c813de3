#include "line_assembler.h"

#include <cstring>

namespace ftpalg::core {

namespace {

// Where the scan of one call stands.
struct Scan {
  const char* text;
  uint32_t len;
  uint32_t seq;
  uint32_t pos = 0;
};

enum class Step : uint8_t { Continue, Stop };

void nextLineAt(LineCursor& c, Scan& s, uint32_t pos) {
  s.pos = pos;
  c.lineStart = s.seq + pos;
}

// Appends to the partial line in the buffer; completes it at an LF.
Step continueBuffered(LineCursor& c, Scan& s, const char* lf, uint32_t lfPos, size_t maxLine,
                      LineSink& sink) {
  const uint32_t take = (lf ? lfPos + 1 : s.len) - s.pos;
  if (c.lineLen + take > c.buffer.size()) {
    sink.onBadLine(std::string_view(c.buffer.data(), c.lineLen), ParseError::LineTooLong);
    c.lineLen = 0;
    if (lf == nullptr) {
      c.discard = true;
      return Step::Stop;
    }
    nextLineAt(c, s, lfPos + 1);
    return Step::Continue;
  }
  std::memcpy(c.buffer.data() + c.lineLen, s.text + s.pos, take);
  c.lineLen += take;
  s.pos += take;
  if (lf == nullptr) return Step::Stop;
  const std::string_view whole(c.buffer.data(), c.lineLen);
  const LineFrame f = frameLine(whole, maxLine);
  if (f.status == ParseStatus::Ok) {
    sink.onLine(whole.substr(0, f.length), c.lineStart);
  } else {
    sink.onBadLine(whole, f.error);
  }
  c.lineLen = 0;
  c.lineStart = s.seq + s.pos;
  return Step::Continue;
}

// Frames a line directly in the segment; keeps an incomplete one in the buffer.
Step frameInPlace(LineCursor& c, Scan& s, size_t maxLine, LineSink& sink) {
  const std::string_view rest(s.text + s.pos, s.len - s.pos);
  const LineFrame f = frameLine(rest, maxLine);
  if (f.status == ParseStatus::Ok) {
    sink.onLine(rest.substr(0, f.length), s.seq + s.pos);
    nextLineAt(c, s, s.pos + static_cast<uint32_t>(f.consumed));
    return Step::Continue;
  }
  if (f.status == ParseStatus::NeedMore) {
    std::memcpy(c.buffer.data(), rest.data(), rest.size());
    c.lineLen = static_cast<uint32_t>(rest.size());
    c.lineStart = s.seq + s.pos;
    return Step::Stop;
  }
  const size_t upto = f.consumed > 0 ? f.consumed : rest.size();
  sink.onBadLine(rest.substr(0, upto), f.error);
  if (f.consumed == 0) {
    c.discard = true;
    return Step::Stop;
  }
  nextLineAt(c, s, s.pos + static_cast<uint32_t>(f.consumed));
  return Step::Continue;
}

}  // namespace

// flatten: one call per segment on the packet path (tests/bench/engine_bench.cc).
[[gnu::flatten]] void assembleLines(LineCursor c, const uint8_t* data, uint32_t len, uint32_t seq,
                                    size_t maxLine, LineSink& sink) {
  Scan s{reinterpret_cast<const char*>(data), len, seq};
  while (s.pos < s.len) {
    if (sink.stopped()) return;
    const auto* lf = static_cast<const char*>(std::memchr(s.text + s.pos, '\n', s.len - s.pos));
    const uint32_t lfPos = lf ? static_cast<uint32_t>(lf - s.text) : s.len;
    Step step;
    if (c.discard) {
      if (lf == nullptr) return;
      c.discard = false;
      nextLineAt(c, s, lfPos + 1);
      step = Step::Continue;
    } else if (c.lineLen > 0) {
      step = continueBuffered(c, s, lf, lfPos, maxLine, sink);
    } else {
      step = frameInPlace(c, s, maxLine, sink);
    }
    if (step == Step::Stop) return;
  }
}

}  // namespace ftpalg::core
