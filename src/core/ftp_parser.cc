// FTP control-channel wire forms (see ftp_parser.h for the contract).
//
// Every function reads only inside the view it was given (tests run them from a buffer that ends
// at a PROT_NONE page). Numbers go through std::from_chars after the digit run has been bounded,
// so signs, spaces and over-long runs are rejected before any conversion.
#include "ftpalg/core/ftp_parser.h"

#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "name_table.h"

namespace ftpalg::core {
namespace {

// Spans are uint16_t offsets; a longer line cannot be described and is refused up front.
constexpr size_t kMaxParsedLine = std::numeric_limits<uint16_t>::max();
constexpr size_t kByteDigits = 3;  // "010" is allowed, "0010" is not
constexpr size_t kPortDigits = 5;  // EPRT / 229 port
constexpr size_t kVerbLen = 4;

bool isDigit(char c) { return c >= '0' && c <= '9'; }
char toUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }
bool isAlnum(char c) { return isDigit(c) || (toUpper(c) >= 'A' && toUpper(c) <= 'Z'); }
// RFC 2428 delimiter range. Digits are refused too: a digit delimiter makes the number fields
// ambiguous (a client and the ALG could split "1114461" differently).
bool isDelimiter(char c) { return c >= 33 && c <= 126 && !isDigit(c); }
bool isPunct(char c) { return c >= 33 && c <= 126 && !isAlnum(c); }

// Value of the three digits at the start of `s` (caller checked they are digits).
uint16_t threeDigits(std::string_view s) {
  return static_cast<uint16_t>((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (toUpper(a[i]) != toUpper(b[i])) return false;
  }
  return true;
}

std::string_view trimTrailingSpaces(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Position of the first LF at or after `from`, or npos.
size_t findLf(std::string_view buf, size_t from) {
  if (from >= buf.size()) return std::string_view::npos;
  const void* p = std::memchr(buf.data() + from, '\n', buf.size() - from);
  return p == nullptr ? std::string_view::npos
                      : static_cast<size_t>(static_cast<const char*>(p) - buf.data());
}

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
  } else {
    auto r = std::from_chars(s.data() + pos, s.data() + end, n.value);
    if (r.ec != std::errc{} || r.ptr != s.data() + end) n.error = ParseError::BadNumber;
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

constexpr NameRow<ParseError> kErrorNames[] = {
    {ParseError::None, "none"},
    {ParseError::LineTooLong, "line_too_long"},
    {ParseError::EmbeddedNul, "embedded_nul"},
    {ParseError::BareCr, "bare_cr"},
    {ParseError::MissingField, "missing_field"},
    {ParseError::BadNumber, "bad_number"},
    {ParseError::NumberTooLong, "number_too_long"},
    {ParseError::OctetOutOfRange, "octet_out_of_range"},
    {ParseError::PortOutOfRange, "port_out_of_range"},
    {ParseError::BadDelimiter, "bad_delimiter"},
    {ParseError::UnknownFamily, "unknown_family"},
    {ParseError::BadAddress, "bad_address"},
    {ParseError::TrailingGarbage, "trailing_garbage"},
    {ParseError::NoAddress, "no_address"},
};
static_assert(completeNameTable(kErrorNames, static_cast<size_t>(ParseError::Count)));

struct VerbName {
  std::string_view text;
  Verb verb;
};
constexpr std::array<VerbName, 7> kVerbs{{{"PORT", Verb::Port},
                                          {"EPRT", Verb::Eprt},
                                          {"LPRT", Verb::Lprt},
                                          {"PASV", Verb::Pasv},
                                          {"EPSV", Verb::Epsv},
                                          {"LPSV", Verb::Lpsv},
                                          {"AUTH", Verb::Auth}}};

constexpr std::array<std::string_view, 3> kAnnouncingVerbs{"PORT", "EPRT", "LPRT"};

}  // namespace

std::string_view parseErrorName(ParseError e) { return nameOf(kErrorNames, e); }

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

Command classifyCommand(std::string_view line) {
  Command cmd;
  if (line.size() < kVerbLen) return cmd;
  if (line.size() > kVerbLen && line[kVerbLen] != ' ') return cmd;
  const std::string_view verb = line.substr(0, kVerbLen);
  for (const VerbName& v : kVerbs) {
    if (equalsIgnoreCase(verb, v.text)) {
      cmd.verb = v.verb;
      break;
    }
  }
  if (cmd.verb == Verb::Other) return cmd;
  cmd.arg = line.size() > kVerbLen ? line.substr(kVerbLen + 1) : line.substr(kVerbLen);
  const std::string_view word = trimTrailingSpaces(cmd.arg);
  if (cmd.verb == Verb::Epsv) {
    cmd.epsvAll = equalsIgnoreCase(word, "ALL");
  } else if (cmd.verb == Verb::Auth) {
    cmd.authTls = equalsIgnoreCase(word, "TLS") || equalsIgnoreCase(word, "SSL") ||
                  equalsIgnoreCase(word, "TLS-C") || equalsIgnoreCase(word, "TLS-P");
  }
  return cmd;
}

bool mayBeAnnouncingCommand(std::string_view prefix) {
  const std::string_view head =
      prefix.substr(0, prefix.size() < kVerbLen ? prefix.size() : kVerbLen);
  bool verbMatches = false;
  for (std::string_view v : kAnnouncingVerbs) {
    if (equalsIgnoreCase(head, v.substr(0, head.size()))) verbMatches = true;
  }
  if (!verbMatches) return false;
  // After the verb comes a space, or the end of the line (a CR may already be buffered).
  return prefix.size() <= kVerbLen || prefix[kVerbLen] == ' ' || prefix[kVerbLen] == '\r';
}

bool mayBeAnnouncingReply(std::string_view prefix, bool inMultiLine, uint16_t multiLineCode) {
  if (inMultiLine) return multiLineCode >= 227 && multiLineCode <= 229;
  static constexpr std::string_view kLead = "22";
  for (size_t i = 0; i < prefix.size() && i < 3; ++i) {
    const char c = prefix[i];
    if (i < 2 ? c != kLead[i] : (c < '7' || c > '9')) return false;
  }
  return true;
}

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

  // net-addr: address characters up to the next delimiter.
  const size_t addrBegin = pos;
  while (pos < line.size() && line[pos] != d &&
         (isDigit(line[pos]) || line[pos] == '.' || line[pos] == ':' ||
          (toUpper(line[pos]) >= 'A' && toUpper(line[pos]) <= 'F'))) {
    ++pos;
  }
  if (pos >= line.size()) return fail(ParseError::MissingField);
  if (line[pos] != d) {
    // A stray byte inside the address ("fe80::1%eth0") vs. a different closing delimiter.
    const bool laterDelim = line.find(d, pos) != std::string_view::npos;
    return fail(!laterDelim && isPunct(line[pos]) ? ParseError::BadDelimiter
                                                  : ParseError::BadAddress);
  }
  IpAddr addr;
  const Family want = af.value == 1 ? Family::V4 : Family::V6;
  if (!parseIp(line.substr(addrBegin, pos - addrBegin), addr) || addr.family != want) {
    return fail(ParseError::BadAddress);
  }
  ++pos;

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

size_t formatPortText(const Endpoint& ep, std::span<char> out) {
  if (ep.addr.family != Family::V4 || ep.port == 0) return 0;
  std::array<char, 24> buf{};
  size_t pos = 0;
  const std::array<unsigned, 6> v{ep.addr.bytes[0],
                                  ep.addr.bytes[1],
                                  ep.addr.bytes[2],
                                  ep.addr.bytes[3],
                                  static_cast<unsigned>(ep.port >> 8),
                                  static_cast<unsigned>(ep.port & 0xff)};
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) buf[pos++] = ',';
    pos = static_cast<size_t>(std::to_chars(buf.data() + pos, buf.data() + buf.size(), v[i]).ptr -
                              buf.data());
  }
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

size_t formatEprtText(const Endpoint& ep, char delim, std::span<char> out) {
  if (ep.port == 0 || !isDelimiter(delim)) return 0;
  if (ep.addr.family != Family::V4 && ep.addr.family != Family::V6) return 0;
  std::array<char, 64> buf{};
  size_t pos = 0;
  buf[pos++] = delim;
  buf[pos++] = ep.addr.family == Family::V4 ? '1' : '2';
  buf[pos++] = delim;
  const size_t n = formatIp(ep.addr, std::span<char>(buf.data() + pos, 46));
  // The delimiter must not occur in the address text, or the line would not parse back.
  if (n == 0 || std::memchr(buf.data() + pos, delim, n) != nullptr) return 0;
  pos += n;
  buf[pos++] = delim;
  pos = static_cast<size_t>(std::to_chars(buf.data() + pos, buf.data() + buf.size(), ep.port).ptr -
                            buf.data());
  buf[pos++] = delim;
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

size_t format229Text(uint16_t port, char delim, std::span<char> out) {
  if (port == 0 || !isDelimiter(delim)) return 0;
  std::array<char, 12> buf{delim, delim, delim};
  size_t pos = 3;
  pos = static_cast<size_t>(std::to_chars(buf.data() + pos, buf.data() + buf.size(), port).ptr -
                            buf.data());
  buf[pos++] = delim;
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

size_t formatLongText(const Endpoint& ep, std::span<char> out) {
  if (ep.port == 0 || (ep.addr.family != Family::V4 && ep.addr.family != Family::V6)) return 0;
  std::array<char, 80> buf{};
  size_t pos = 0;
  auto put = [&](unsigned v) {
    if (pos > 0) buf[pos++] = ',';
    pos = static_cast<size_t>(std::to_chars(buf.data() + pos, buf.data() + buf.size(), v).ptr -
                              buf.data());
  };
  const size_t hal = ep.addr.size();
  put(ep.addr.family == Family::V4 ? 4U : 6U);
  put(static_cast<unsigned>(hal));
  for (size_t i = 0; i < hal; ++i) put(ep.addr.bytes[i]);
  put(2U);
  put(static_cast<unsigned>(ep.port >> 8));
  put(static_cast<unsigned>(ep.port & 0xff));
  if (pos > out.size()) return 0;
  std::memcpy(out.data(), buf.data(), pos);
  return pos;
}

}  // namespace ftpalg::core
