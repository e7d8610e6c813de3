// The announcement parsers: PORT, EPRT, LPRT (client) and 227, 228, 229 (server).
//
// Every function reads only inside the view it was given (tests run them from a buffer that ends
// at a PROT_NONE page). Numbers go through core::parseNumber after the digit run has been
// bounded, so signs, spaces and over-long runs are rejected before any conversion.
#include <array>
#include <limits>

#include "ftpalg/core/ftp_parser.h"
#include "ftpalg/core/number.h"
#include "wire_chars.h"

namespace ftpalg::core {
namespace {

// Spans are uint16_t offsets; a longer line cannot be described and is refused up front.
constexpr size_t kMaxParsedLine = std::numeric_limits<uint16_t>::max();
constexpr size_t kByteDigits = 3;  // "010" is allowed, "0010" is not
constexpr size_t kPortDigits = 5;  // EPRT / 229 port

struct Number {
  ParseError error = ParseError::None;
  uint32_t value = 0;
  size_t end = 0;  // one past the last digit
};

// Strict unsigned decimal at s[pos]: at least one digit, at most maxDigits.
Number readNumber(std::string_view s, size_t pos, size_t maxDigits) {
  Number n;
  size_t end = pos;
  while (end < s.size() && isDigit(s[end])) ++end;
  n.end = end;
  if (end == pos) {
    n.error = ParseError::BadNumber;
  } else if (end - pos > maxDigits) {
    n.error = ParseError::NumberTooLong;
  } else if (!parseNumber(s.substr(pos, end - pos), n.value, uint32_t{0},
                          std::numeric_limits<uint32_t>::max(), maxDigits)) {
    n.error = ParseError::BadNumber;
  }
  return n;
}

// Expects `sep` at s[pos]. End of text: MissingField; a different byte: BadDelimiter when it is
// punctuation (a mixed EPRT/229 delimiter), BadNumber otherwise (a letter or space in a field).
ParseError expectSeparator(std::string_view s, size_t pos, char sep) {
  if (pos >= s.size()) return ParseError::MissingField;
  if (s[pos] == sep) return ParseError::None;
  if (sep != ',' && isPunct(s[pos])) return ParseError::BadDelimiter;
  return ParseError::BadNumber;
}

// Only spaces may follow the last field of a command.
ParseError expectOnlySpaces(std::string_view s, size_t pos) {
  for (size_t i = pos; i < s.size(); ++i) {
    if (s[i] != ' ') return ParseError::TrailingGarbage;
  }
  return ParseError::None;
}

AddrParse fail(ParseError e) {
  AddrParse r;
  r.status = ParseStatus::Invalid;
  r.error = e;
  return r;
}

Span makeSpan(size_t begin, size_t end) {
  return Span{static_cast<uint16_t>(begin), static_cast<uint16_t>(end - begin)};
}

// Offset of the argument when `line` is "<verb> <arg>" (verb any case), else npos.
size_t argumentOffset(std::string_view line, std::string_view verb) {
  if (line.size() < kVerbLen || !equalsIgnoreCase(line.substr(0, kVerbLen), verb)) {
    return std::string_view::npos;
  }
  if (line.size() == kVerbLen) return kVerbLen;
  return line[kVerbLen] == ' ' ? kVerbLen + 1 : std::string_view::npos;
}

// Where the reply text starts: after "ddd " / "ddd-" / "ddd", or 0 for a continuation line.
size_t replyTextOffset(std::string_view line) {
  if (line.size() < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2])) return 0;
  if (line.size() == 3) return 3;
  return (line[3] == ' ' || line[3] == '-') ? 4 : 0;
}

// "h1,h2,h3,h4,p1,p2" at s[pos]; on success `end` is one past p2 and ep is set.
ParseError parseSixNumbers(std::string_view s, size_t pos, Endpoint& ep, size_t& end) {
  std::array<uint8_t, 6> b{};
  for (size_t k = 0; k < b.size(); ++k) {
    if (k > 0) {
      if (ParseError e = expectSeparator(s, pos, ','); e != ParseError::None) return e;
      ++pos;
    }
    const Number n = readNumber(s, pos, kByteDigits);
    if (n.error != ParseError::None) return n.error;
    if (n.value > 255) return k < 4 ? ParseError::OctetOutOfRange : ParseError::PortOutOfRange;
    b[k] = static_cast<uint8_t>(n.value);
    pos = n.end;
  }
  const auto port = static_cast<uint16_t>(b[4] << 8 | b[5]);
  if (port == 0) return ParseError::PortOutOfRange;
  ep.addr = IpAddr::v4(b[0], b[1], b[2], b[3]);
  ep.port = port;
  end = pos;
  return ParseError::None;
}

// RFC 1639 "af,hal,h1,...,pal,p1,p2" at s[pos] (af 4/hal 4 or af 6/hal 16, pal 2).
ParseError parseLongNumbers(std::string_view s, size_t pos, Endpoint& ep, size_t& end) {
  size_t fields = 0;
  // Reads the next comma-separated byte; `field` counts from 0.
  auto next = [&](uint32_t& value) -> ParseError {
    if (fields > 0) {
      if (ParseError e = expectSeparator(s, pos, ','); e != ParseError::None) return e;
      ++pos;
    }
    ++fields;
    const Number n = readNumber(s, pos, kByteDigits);
    if (n.error != ParseError::None) return n.error;
    value = n.value;
    pos = n.end;
    return ParseError::None;
  };
  uint32_t af = 0;
  uint32_t hal = 0;
  if (ParseError e = next(af); e != ParseError::None) return e;
  if (af != 4 && af != 6) return ParseError::UnknownFamily;
  if (ParseError e = next(hal); e != ParseError::None) return e;
  if (hal != (af == 4 ? 4U : 16U)) return ParseError::BadAddress;
  std::array<uint8_t, 16> addr{};
  for (size_t i = 0; i < hal; ++i) {
    uint32_t v = 0;
    if (ParseError e = next(v); e != ParseError::None) return e;
    if (v > 255) return ParseError::OctetOutOfRange;
    addr[i] = static_cast<uint8_t>(v);
  }
  uint32_t pal = 0;
  if (ParseError e = next(pal); e != ParseError::None) return e;
  if (pal != 2) return ParseError::PortOutOfRange;
  std::array<uint32_t, 2> p{};
  for (uint32_t& v : p) {
    if (ParseError e = next(v); e != ParseError::None) return e;
    if (v > 255) return ParseError::PortOutOfRange;
  }
  const auto port = static_cast<uint16_t>(p[0] << 8 | p[1]);
  if (port == 0) return ParseError::PortOutOfRange;
  ep.addr = af == 4 ? IpAddr::v4(addr[0], addr[1], addr[2], addr[3]) : IpAddr::v6(addr);
  ep.port = port;
  end = pos;
  return ParseError::None;
}

using GroupParser = ParseError (*)(std::string_view, size_t, Endpoint&, size_t&);

// How telling an error from a reply candidate is; the highest one seen is reported.
int errorRank(ParseError e) {
  switch (e) {
    case ParseError::NoAddress:
      return 0;
    case ParseError::MissingField:
      return 1;
    case ParseError::TrailingGarbage:
      return 2;
    default:
      return 3;
  }
}

// Scans reply text for the first group of comma-separated numbers that `parse` accepts whole.
// A group is a maximal run "d[,d]..."; one with fewer than minFields numbers is MissingField
// without looking at its values, one with extra numbers is not a match.
AddrParse scanReplyGroups(std::string_view line, GroupParser parse, size_t minFields) {
  if (line.size() > kMaxParsedLine) return fail(ParseError::LineTooLong);
  ParseError best = ParseError::NoAddress;
  const size_t textBegin = replyTextOffset(line);
  size_t i = textBegin;
  while (i < line.size()) {
    if (!isDigit(line[i])) {
      ++i;
      continue;
    }
    const size_t begin = i;
    size_t groupEnd = i;
    size_t fields = 1;
    while (groupEnd < line.size() && isDigit(line[groupEnd])) {
      ++groupEnd;
      if (groupEnd + 1 < line.size() && line[groupEnd] == ',' && isDigit(line[groupEnd + 1])) {
        ++groupEnd;
        ++fields;
      }
    }
    i = groupEnd;
    const std::string_view group = line.substr(0, groupEnd);
    ParseError e = ParseError::None;
    Endpoint ep;
    size_t end = 0;
    if (fields < minFields) {
      e = ParseError::MissingField;
    } else if (begin > textBegin && (line[begin - 1] == '-' || line[begin - 1] == '+')) {
      e = ParseError::BadNumber;  // "(-1,2,...)": a client's %u would wrap it
    } else {
      e = parse(group, begin, ep, end);
      if (e == ParseError::None && end != groupEnd) e = ParseError::TrailingGarbage;
    }
    if (e == ParseError::None) {
      AddrParse r;
      r.status = ParseStatus::Ok;
      r.ep = ep;
      r.hasAddr = true;
      r.span = makeSpan(begin, end);
      return r;
    }
    if (errorRank(e) > errorRank(best)) best = e;
  }
  return fail(best);
}

// "(|||6446|)" with the text after '(' starting at s[pos].
ParseError parse229At(std::string_view s, size_t pos, AddrParse& r) {
  if (pos >= s.size()) return ParseError::MissingField;
  const char d = s[pos];
  if (!isDelimiter(d)) return ParseError::BadDelimiter;
  const size_t begin = pos;
  for (size_t k = 1; k <= 2; ++k) {
    if (pos + k >= s.size()) return ParseError::MissingField;
    const char c = s[pos + k];
    if (c == d) continue;
    // RFC 2428 section 3: the server sends only the port; net-prt and address stay empty.
    return (isPunct(c) && c != ':' && c != '.') ? ParseError::BadDelimiter : ParseError::BadAddress;
  }
  pos += 3;
  const Number n = readNumber(s, pos, kPortDigits);
  if (n.error != ParseError::None) return n.error;
  if (n.value == 0 || n.value > 65535) return ParseError::PortOutOfRange;
  pos = n.end;
  if (ParseError e = expectSeparator(s, pos, d); e != ParseError::None) return e;
  ++pos;
  if (pos >= s.size()) return ParseError::MissingField;
  if (s[pos] != ')') return ParseError::TrailingGarbage;
  r.ep.port = static_cast<uint16_t>(n.value);
  r.delim = d;
  r.span = makeSpan(begin, pos);
  return ParseError::None;
}

// EPRT's net-addr at s[pos]: address characters up to the delimiter `d`, a valid address of
// family `want`. On success `pos` is one past the closing delimiter.
ParseError parseEprtAddress(std::string_view s, char d, Family want, size_t& pos, IpAddr& addr) {
  const size_t addrBegin = pos;
  while (pos < s.size() && s[pos] != d &&
         (isDigit(s[pos]) || s[pos] == '.' || s[pos] == ':' ||
          (toUpper(s[pos]) >= 'A' && toUpper(s[pos]) <= 'F'))) {
    ++pos;
  }
  if (pos >= s.size()) return ParseError::MissingField;
  if (s[pos] != d) {
    // A stray byte inside the address ("fe80::1%eth0") vs. a different closing delimiter.
    const bool laterDelim = s.find(d, pos) != std::string_view::npos;
    return !laterDelim && isPunct(s[pos]) ? ParseError::BadDelimiter : ParseError::BadAddress;
  }
  if (!parseIp(s.substr(addrBegin, pos - addrBegin), addr) || addr.family != want) {
    return ParseError::BadAddress;
  }
  ++pos;
  return ParseError::None;
}

}  // namespace

AddrParse parsePort(std::string_view line) {
  if (line.size() > kMaxParsedLine) return fail(ParseError::LineTooLong);
  const size_t begin = argumentOffset(line, "PORT");
  if (begin == std::string_view::npos) return fail(ParseError::MissingField);
  if (begin == line.size()) return fail(ParseError::MissingField);
  AddrParse r;
  size_t end = 0;
  if (ParseError e = parseSixNumbers(line, begin, r.ep, end); e != ParseError::None) return fail(e);
  if (ParseError e = expectOnlySpaces(line, end); e != ParseError::None) return fail(e);
  r.status = ParseStatus::Ok;
  r.hasAddr = true;
  r.span = makeSpan(begin, end);
  return r;
}

AddrParse parseEprt(std::string_view line) {
  if (line.size() > kMaxParsedLine) return fail(ParseError::LineTooLong);
  const size_t begin = argumentOffset(line, "EPRT");
  if (begin == std::string_view::npos || begin == line.size()) {
    return fail(ParseError::MissingField);
  }
  const char d = line[begin];
  if (!isDelimiter(d)) return fail(ParseError::BadDelimiter);
  size_t pos = begin + 1;

  // net-prt: "1" (IPv4) or "2" (IPv6).
  const Number af = readNumber(line, pos, kByteDigits);
  if (af.error != ParseError::None) return fail(af.error);
  if (af.end - pos != 1 || (af.value != 1 && af.value != 2)) {
    return fail(ParseError::UnknownFamily);
  }
  pos = af.end;
  if (ParseError e = expectSeparator(line, pos, d); e != ParseError::None) return fail(e);
  ++pos;

  // net-addr: address characters up to the next delimiter, of the family net-prt names.
  IpAddr addr;
  const Family want = af.value == 1 ? Family::V4 : Family::V6;
  if (ParseError e = parseEprtAddress(line, d, want, pos, addr); e != ParseError::None) {
    return fail(e);
  }

  // tcp-port: 1..65535, then the closing delimiter.
  const Number port = readNumber(line, pos, kPortDigits);
  if (port.error != ParseError::None) return fail(port.error);
  if (port.value == 0 || port.value > 65535) return fail(ParseError::PortOutOfRange);
  pos = port.end;
  if (ParseError e = expectSeparator(line, pos, d); e != ParseError::None) return fail(e);
  ++pos;
  if (ParseError e = expectOnlySpaces(line, pos); e != ParseError::None) return fail(e);

  AddrParse r;
  r.status = ParseStatus::Ok;
  r.ep.addr = addr;
  r.ep.port = static_cast<uint16_t>(port.value);
  r.hasAddr = true;
  r.span = makeSpan(begin, pos);
  r.delim = d;
  return r;
}

AddrParse parseLprt(std::string_view line) {
  if (line.size() > kMaxParsedLine) return fail(ParseError::LineTooLong);
  const size_t begin = argumentOffset(line, "LPRT");
  if (begin == std::string_view::npos || begin == line.size()) {
    return fail(ParseError::MissingField);
  }
  AddrParse r;
  size_t end = 0;
  if (ParseError e = parseLongNumbers(line, begin, r.ep, end); e != ParseError::None) {
    return fail(e);
  }
  if (ParseError e = expectOnlySpaces(line, end); e != ParseError::None) return fail(e);
  r.status = ParseStatus::Ok;
  r.hasAddr = true;
  r.span = makeSpan(begin, end);
  return r;
}

AddrParse parse227(std::string_view line) { return scanReplyGroups(line, parseSixNumbers, 6); }

AddrParse parse228(std::string_view line) { return scanReplyGroups(line, parseLongNumbers, 9); }

AddrParse parse229(std::string_view line) {
  if (line.size() > kMaxParsedLine) return fail(ParseError::LineTooLong);
  ParseError first = ParseError::NoAddress;
  for (size_t i = replyTextOffset(line); i < line.size(); ++i) {
    if (line[i] != '(') continue;
    AddrParse r;
    const ParseError e = parse229At(line, i + 1, r);
    if (e == ParseError::None) {
      r.status = ParseStatus::Ok;
      return r;
    }
    if (first == ParseError::NoAddress) first = e;
  }
  return fail(first);
}

}  // namespace ftpalg::core
