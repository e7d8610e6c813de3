#include "wire_forms.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

namespace ftpalg::core {

namespace {

size_t formatPort(const Endpoint& ep, char, std::span<char> out) { return formatPortText(ep, out); }
size_t formatEprt(const Endpoint& ep, char delim, std::span<char> out) {
  return formatEprtText(ep, delim, out);
}
size_t format229(const Endpoint& ep, char delim, std::span<char> out) {
  return format229Text(ep.port, delim, out);
}
size_t formatLong(const Endpoint& ep, char, std::span<char> out) { return formatLongText(ep, out); }

// "198,18,0,2," for PORT: the formatted text through its fourth comma.
size_t portPrefix(const IpAddr& a, char, std::span<char> out) {
  if (a.family != Family::V4) return 0;
  std::array<char, 24> t{};
  const size_t n = formatPortText(Endpoint{a, 1024}, t);  // "a,b,c,d,4,0"
  size_t commas = 0;
  for (size_t i = 0; i < n && i < out.size(); ++i) {
    out[i] = t[i];
    if (t[i] == ',' && ++commas == 4) return i + 1;
  }
  return 0;
}

// "|1|198.18.0.2|" for EPRT with delimiter `delim`.
size_t eprtPrefix(const IpAddr& a, char delim, std::span<char> out) {
  std::array<char, 64> ip{};
  const size_t n = formatIp(a, ip);
  if (n == 0 || n + 4 > out.size()) return 0;
  // No early splice of an address the line's delimiter occurs in: refused when it completes.
  if (std::memchr(ip.data(), delim, n) != nullptr) return 0;
  out[0] = delim;
  out[1] = a.family == Family::V4 ? '1' : '2';
  out[2] = delim;
  std::memcpy(out.data() + 3, ip.data(), n);
  out[3 + n] = delim;
  return n + 4;
}

constexpr Dir C2S = Dir::C2S;
constexpr Dir S2C = Dir::S2C;

// clang-format off
constexpr std::array<WireForm, 6> kForms{{
  // from lead    kind                answers          verb        code parse      format      prefix      delim  long   flag
  {C2S, "PORT", EventKind::Port,    Pending::Other, Verb::Port, 0,   parsePort, formatPort, portPrefix, false, false, true,
   "PORT 192,168,1,2,4,1"},
  {C2S, "EPRT", EventKind::Eprt,    Pending::Other, Verb::Eprt, 0,   parseEprt, formatEprt, eprtPrefix, true,  false, true,
   "EPRT |2|2001:db8::1|6275|"},
  // LPRT from the server is not reported: policy disables the long forms by default.
  {C2S, "LPRT", EventKind::Lprt,    Pending::Other, Verb::Lprt, 0,   parseLprt, formatLong, nullptr,    false, true,  false,
   "LPRT 4,4,132,235,1,2,2,24,131"},
  {S2C, "227",  EventKind::Pasv227, Pending::Pasv,  Verb::Other, 227, parse227, formatPort, nullptr,    false, false, true,
   "227 Entering Passive Mode (192,168,1,2,4,1)."},
  {S2C, "229",  EventKind::Epsv229, Pending::Epsv,  Verb::Other, 229, parse229, format229,  nullptr,    true,  false, true,
   "229 Entering Extended Passive Mode (|||6446|)"},
  {S2C, "228",  EventKind::Lpsv228, Pending::Lpsv,  Verb::Other, 228, parse228, formatLong, nullptr,    false, true,  true,
   "228 Entering Long Passive Mode (4,4,1,2,3,4,2,24,131)"},
}};
// clang-format on

constexpr bool rowsInKindOrder() {
  for (size_t i = 0; i < kForms.size(); ++i) {
    if (static_cast<size_t>(kForms[i].kind) != i) return false;
  }
  return true;
}
static_assert(rowsInKindOrder(), "wireFormOf() indexes the table by EventKind");

// Lookups on the packet path: command rows by Verb, and the range of reply codes with a row.
constexpr std::array<const WireForm*, static_cast<size_t>(Verb::Count)> byVerb() {
  std::array<const WireForm*, static_cast<size_t>(Verb::Count)> t{};
  for (const WireForm& f : kForms) {
    if (f.from == Dir::C2S) t[static_cast<size_t>(f.verb)] = &f;
  }
  return t;
}
constexpr auto kByVerb = byVerb();

constexpr std::pair<uint16_t, uint16_t> codeRange() {
  std::pair<uint16_t, uint16_t> r{UINT16_MAX, 0};
  for (const WireForm& f : kForms) {
    if (f.from == Dir::S2C) r = {std::min(r.first, f.code), std::max(r.second, f.code)};
  }
  return r;
}
constexpr auto kCodes = codeRange();

constexpr bool replyLeadsAreCodes() {
  for (const WireForm& f : kForms) {
    if (f.from == Dir::S2C && (f.lead.size() != 3 || f.code < 100 || f.code > 599)) return false;
  }
  return true;
}
static_assert(replyLeadsAreCodes(), "replyFormOfLine() expects 3-digit leads");

bool startsWithWord(std::string_view line, std::string_view word) {
  if (line.size() < word.size() + 1 || line[word.size()] != ' ') return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if ((line[i] & ~0x20) != word[i]) return false;
  }
  return true;
}

}  // namespace

std::span<const WireForm> wireForms() { return kForms; }

const WireForm* wireFormOf(EventKind kind) {
  const auto i = static_cast<size_t>(kind);
  return i < kForms.size() ? &kForms[i] : nullptr;
}

const WireForm* commandForm(Verb verb) {
  const auto i = static_cast<size_t>(verb);
  return i < kByVerb.size() ? kByVerb[i] : nullptr;
}

const WireForm* replyForm(uint16_t code) {
  if (code < kCodes.first || code > kCodes.second) return nullptr;  // most replies
  for (const WireForm& f : kForms) {
    if (f.from == Dir::S2C && f.code == code) return &f;
  }
  return nullptr;
}

const WireForm* commandFormOfPrefix(std::string_view prefix) {
  for (const WireForm& f : kForms) {
    if (f.from == Dir::C2S && startsWithWord(prefix, f.lead)) return &f;
  }
  return nullptr;
}

const WireForm* replyFormOfLine(std::string_view line) {
  if (line.size() < 4 || line[3] != ' ') return nullptr;  // every reply lead is a 3-digit code
  for (const WireForm& f : kForms) {
    if (f.from == Dir::S2C && line.starts_with(f.lead)) return &f;
  }
  return nullptr;
}

Pending alsoAnswers(const WireForm& form) {
  if (form.kind == EventKind::Pasv227) return Pending::Epsv;
  if (form.kind == EventKind::Epsv229) return Pending::Pasv;
  return Pending::Unknown;
}

bool answersCommand(const WireForm& form, Pending p) {
  return p == form.answers || (p != Pending::Unknown && p == alsoAnswers(form));
}

}  // namespace ftpalg::core
