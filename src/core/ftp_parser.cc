// Command lines and their vocabulary: command classification, the "may still become an
// announcement" hold predicates and the names of ParseError. Line framing, reply tracking and
// the address parsers and formatters have their own files (see ftp_parser.h for the contract).
#include "ftpalg/core/ftp_parser.h"

#include <array>

#include "ftpalg/name_table.h"
#include "wire_chars.h"

namespace ftpalg::core {
namespace {

std::string_view trimTrailingSpaces(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
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

}  // namespace ftpalg::core
