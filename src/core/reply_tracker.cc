// Multi-line reply tracking (RFC 959 4.2): which reply a server line belongs to, and whether it
// is the reply's first or last line.
#include "ftpalg/core/ftp_parser.h"
#include "wire_chars.h"

namespace ftpalg::core {
namespace {

// Value of the three digits at the start of `s` (caller checked they are digits).
uint16_t threeDigits(std::string_view s) {
  return static_cast<uint16_t>((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
}

}  // namespace

ReplyLine trackReply(ReplyTracker& tracker, std::string_view line) {
  ReplyLine r;
  const bool codeLike =
      line.size() >= 3 && isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]);
  if (tracker.inMulti) {
    // RFC 959 4.2: the reply ends at a line starting with the same code and a space; every
    // other line (even one starting with another code) is continuation text.
    r.status = ParseStatus::Ok;
    r.code = tracker.code;
    if (codeLike && line.size() > 3 && line[3] == ' ') {
      if (threeDigits(line) == tracker.code) {
        r.last = true;
        tracker.inMulti = false;
      }
    }
    return r;
  }
  if (!codeLike) {
    r.error = ParseError::MissingField;
    return r;
  }
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') {
    r.error = isDigit(line[3]) ? ParseError::NumberTooLong : ParseError::TrailingGarbage;
    return r;
  }
  const uint16_t code = threeDigits(line);
  if (code < 100 || code > 599) {
    r.error = ParseError::BadNumber;
    return r;
  }
  r.status = ParseStatus::Ok;
  r.code = code;
  r.first = true;
  tracker.code = r.code;
  tracker.inMulti = line.size() > 3 && line[3] == '-';
  r.last = !tracker.inMulti;
  return r;
}

}  // namespace ftpalg::core
