// libFuzzer target for the wire parsers (src/core/ftp_parser.cc, line_framing.cc, reply_tracker.cc,
// addr_parsers.cc, addr_formatters.cc) and src/core/types.cc.
//
// The input is a control-channel byte stream. It is framed with frameLine exactly as an engine
// would (discarding through the next LF after an error), and every framed line goes through
// every classifier, the reply tracker and every announcement parser, from an exact-size heap
// copy so that AddressSanitizer flags a one-byte over-read. Invariants (trap on violation):
//   - framing: Ok lines fit maxLine, hold no CR/LF/NUL, and every prefix of the buffer gives
//     NeedMore or the same verdict;
//   - a parsed span lies inside the line, and the endpoint formatted back into the span (or
//     after the verb / code alone) parses to the same endpoint;
//   - every prefix of a line that classifies as PORT/EPRT/LPRT, or tracks as a 227/228/229
//     reply, is held by mayBeAnnouncing*;
//   - parseIp(formatIp(a)) == a for every address parsed from the line.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "ftpalg/core/ftp_parser.h"
#include "ftpalg/core/types.h"

namespace {

using namespace ftpalg::core;

constexpr size_t kMaxLine = 1024;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// An exact-size heap copy: one byte past the end is outside the allocation.
class ExactCopy {
 public:
  explicit ExactCopy(std::string_view s)
      : data_(new char[s.empty() ? 1 : s.size()]), size_(s.size()) {
    if (!s.empty()) std::memcpy(data_.get(), s.data(), s.size());
  }
  [[nodiscard]] std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_;
};

enum class Form { Port, Eprt, Lprt, R227, R228, R229 };

size_t formatFor(Form f, const AddrParse& r, std::span<char> out) {
  switch (f) {
    case Form::Port:
    case Form::R227:
      return formatPortText(r.ep, out);
    case Form::Eprt:
      return formatEprtText(r.ep, r.delim, out);
    case Form::Lprt:
    case Form::R228:
      return formatLongText(r.ep, out);
    case Form::R229:
      return format229Text(r.ep.port, r.delim, out);
  }
  return 0;
}

// A minimal line in which `text` stands where the parser expects an address text.
std::string lineAround(Form f, std::string_view text) {
  switch (f) {
    case Form::Port:
      return "PORT " + std::string(text);
    case Form::Eprt:
      return "EPRT " + std::string(text);
    case Form::Lprt:
      return "LPRT " + std::string(text);
    case Form::R227:
      return "227 Entering Passive Mode (" + std::string(text) + ").";
    case Form::R228:
      return "228 Entering Long Passive Mode (" + std::string(text) + ")";
    case Form::R229:
      return "229 Entering Extended Passive Mode (" + std::string(text) + ")";
  }
  return {};
}

void checkSameEndpoint(AddrParse (*parse)(std::string_view), std::string_view line,
                       const AddrParse& want) {
  const ExactCopy copy(line);
  const AddrParse r = parse(copy.view());
  check(r.status == ParseStatus::Ok);
  check(r.ep == want.ep);
  check(r.hasAddr == want.hasAddr);
  check(r.delim == want.delim);
}

void checkAddr(Form f, AddrParse (*parse)(std::string_view), std::string_view line) {
  const AddrParse r = parse(line);
  if (r.status != ParseStatus::Ok) {
    check(r.status == ParseStatus::Invalid);
    check(r.error != ParseError::None && r.error < ParseError::Count);
    check(!parseErrorName(r.error).empty());
    return;
  }
  check(r.error == ParseError::None);
  check(r.span.length > 0);
  check(size_t{r.span.offset} + r.span.length <= line.size());
  check(r.ep.port != 0);
  if (f == Form::R229) {
    check(!r.hasAddr && r.ep.addr.family == Family::None);
  } else {
    check(r.hasAddr);
    check(r.ep.addr.family == Family::V4 || r.ep.addr.family == Family::V6);
  }
  if (f == Form::Port || f == Form::R227) check(r.ep.addr.family == Family::V4);
  if (f == Form::Eprt || f == Form::R229) check(r.delim >= 33 && r.delim <= 126);
  if (f == Form::Port || f == Form::Eprt || f == Form::Lprt) {
    const Verb v = classifyCommand(line).verb;
    check(v == (f == Form::Port ? Verb::Port : f == Form::Eprt ? Verb::Eprt : Verb::Lprt));
  }

  // The span alone, after the verb or inside a fresh reply, means the same endpoint.
  const std::string_view spanText = line.substr(r.span.offset, r.span.length);
  checkSameEndpoint(parse, lineAround(f, spanText), r);

  // The canonical text spliced over the span means the same endpoint.
  char buf[80];
  const size_t n = formatFor(f, r, buf);
  if (n == 0) {
    // Only legitimate refusal: the EPRT delimiter occurs in the canonical address text.
    check(f == Form::Eprt);
    char ip[46];
    const size_t m = formatIp(r.ep.addr, ip);
    check(m > 0 && std::memchr(ip, r.delim, m) != nullptr);
    return;
  }
  std::string spliced(line);
  spliced.replace(r.span.offset, r.span.length, buf, n);
  checkSameEndpoint(parse, spliced, r);
  checkSameEndpoint(parse, lineAround(f, std::string_view(buf, n)), r);

  char ep[54];
  check(formatEndpoint(r.ep, ep) > 0 || f == Form::R229);
}

void checkIp(std::string_view text) {
  IpAddr a;
  if (!parseIp(text, a)) return;
  char buf[46];
  const size_t n = formatIp(a, buf);
  check(n > 0);
  IpAddr b;
  check(parseIp(std::string_view(buf, n), b));
  check(a == b);
}

void checkLine(std::string_view line, ReplyTracker& tracker) {
  const Command cmd = classifyCommand(line);
  check(cmd.verb < Verb::Count);
  check(!cmd.epsvAll || cmd.verb == Verb::Epsv);
  check(!cmd.authTls || cmd.verb == Verb::Auth);
  if (cmd.verb != Verb::Other) {
    check(cmd.arg.data() >= line.data());
    check(cmd.arg.data() + cmd.arg.size() == line.data() + line.size());
  }
  if (cmd.verb == Verb::Port || cmd.verb == Verb::Eprt || cmd.verb == Verb::Lprt) {
    for (size_t k = 0; k <= line.size(); ++k) check(mayBeAnnouncingCommand(line.substr(0, k)));
  } else {
    (void)mayBeAnnouncingCommand(line);
  }

  const bool wasMulti = tracker.inMulti;
  const uint16_t multiCode = tracker.code;
  const ReplyLine rl = trackReply(tracker, line);
  if (rl.status == ParseStatus::Ok) {
    check(rl.code >= 100 && rl.code <= 599);
    check(rl.first == !wasMulti);
    check(tracker.inMulti == !rl.last);
    const bool announcing = rl.code >= 227 && rl.code <= 229;
    for (size_t k = 0; k <= line.size(); ++k) {
      const std::string_view p = line.substr(0, k);
      if (wasMulti && announcing) check(mayBeAnnouncingReply(p, true, multiCode));
      if (!wasMulti && announcing) check(mayBeAnnouncingReply(p, false, 0));
    }
  } else {
    check(rl.status == ParseStatus::Invalid && rl.error != ParseError::None);
    check(!wasMulti);  // continuation lines are never invalid
  }
  (void)mayBeAnnouncingReply(line, wasMulti, multiCode);

  checkAddr(Form::Port, parsePort, line);
  checkAddr(Form::Eprt, parseEprt, line);
  checkAddr(Form::Lprt, parseLprt, line);
  checkAddr(Form::R227, parse227, line);
  checkAddr(Form::R228, parse228, line);
  checkAddr(Form::R229, parse229, line);
  checkIp(line);
}

// Every prefix of `buf` must give NeedMore (or the same error, consumed 0) until the LF is in.
void checkPrefixes(std::string_view buf, size_t maxLine, const LineFrame& full) {
  const size_t lf = buf.find('\n');
  const size_t last = lf == std::string_view::npos ? buf.size() : lf + 1;
  for (size_t k = 0; k < last; ++k) {
    const ExactCopy prefix(buf.substr(0, k));
    const LineFrame f = frameLine(prefix.view(), maxLine);
    if (f.status == ParseStatus::NeedMore) continue;
    check(f.status == ParseStatus::Invalid && full.status == ParseStatus::Invalid);
    check(f.error == full.error && f.consumed == 0);
  }
  if (lf != std::string_view::npos) {
    const ExactCopy through(buf.substr(0, lf + 1));
    const LineFrame f = frameLine(through.view(), maxLine);
    check(f.status == full.status && f.error == full.error && f.length == full.length &&
          f.consumed == full.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t maxLine = size > 0 && data[0] < 32 ? data[0] : kMaxLine;

  ReplyTracker tracker;
  bool discarding = false;
  bool checkedPrefixes = false;
  std::string_view rest = input;
  while (!rest.empty()) {
    if (discarding) {
      const size_t lf = rest.find('\n');
      if (lf == std::string_view::npos) break;
      rest.remove_prefix(lf + 1);
      discarding = false;
      continue;
    }
    const ExactCopy buf(rest);
    const LineFrame f = frameLine(buf.view(), maxLine);
    if (!checkedPrefixes && rest.size() <= 512) {
      checkPrefixes(rest, maxLine, f);
      checkedPrefixes = true;
    }
    if (f.status == ParseStatus::NeedMore) {
      check(f.consumed == 0 && f.error == ParseError::None);
      check(rest.find('\n') == std::string_view::npos);
      break;
    }
    if (f.status == ParseStatus::Invalid) {
      check(f.error != ParseError::None);
      if (f.consumed == 0) {
        check(rest.find('\n') == std::string_view::npos);
        discarding = true;
        continue;
      }
      check(f.consumed <= rest.size() && rest[f.consumed - 1] == '\n');
      rest.remove_prefix(f.consumed);
      continue;
    }
    check(f.length <= maxLine);
    check(f.consumed == f.length + 1 || f.consumed == f.length + 2);
    check(f.consumed <= rest.size() && rest[f.consumed - 1] == '\n');
    const std::string_view text = rest.substr(0, f.length);
    check(text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    const ExactCopy line(text);
    checkLine(line.view(), tracker);
    rest.remove_prefix(f.consumed);
  }
  return 0;
}
