// Line framing of the FTP control channel: CRLF or bare LF, bounded length, no NUL, no bare CR.
// frameLine reads only inside the view it was given (tests run it from a buffer that ends at a
// PROT_NONE page).
#include <cstring>

#include "ftpalg/core/ftp_parser.h"

namespace ftpalg::core {
namespace {

// Position of the first LF at or after `from`, or npos.
size_t findLf(std::string_view buf, size_t from) {
  if (from >= buf.size()) return std::string_view::npos;
  const void* p = std::memchr(buf.data() + from, '\n', buf.size() - from);
  return p == nullptr ? std::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - buf.data());
}

}  // namespace

LineFrame frameLine(std::string_view buf, size_t maxLine) {
  LineFrame f;
  auto invalid = [&](ParseError e, size_t from) {
    f.status = ParseStatus::Invalid;
    f.error = e;
    const size_t lf = findLf(buf, from);
    f.consumed = lf == std::string_view::npos ? 0 : lf + 1;
    return f;
  };
  for (size_t i = 0; i < buf.size(); ++i) {
    const char c = buf[i];
    if (c == '\n') {
      if (i > maxLine) return invalid(ParseError::LineTooLong, i);
      f.status = ParseStatus::Ok;
      f.length = i;
      f.consumed = i + 1;
      return f;
    }
    if (c == '\r') {
      if (i + 1 == buf.size()) return f;  // LF may follow in the next segment
      if (buf[i + 1] != '\n') return invalid(ParseError::BareCr, i + 1);
      if (i > maxLine) return invalid(ParseError::LineTooLong, i);
      f.status = ParseStatus::Ok;
      f.length = i;
      f.consumed = i + 2;
      return f;
    }
    if (i >= maxLine) return invalid(ParseError::LineTooLong, i);
    if (c == '\0') return invalid(ParseError::EmbeddedNul, i);
  }
  return f;
}

}  // namespace ftpalg::core
