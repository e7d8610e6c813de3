// The wire forms that announce a data endpoint, one row per form (the idea of the kernel's
// nf_conntrack_ftp search table): the direction it is accepted from, its verb or reply code,
// the event it makes, the command it answers, its parser and formatter. Command handling,
// reply handling, announce, hold and policy read this table; a new form is one new row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/ftp_parser.h"
#include "pairing.h"

namespace ftpalg::core {

// One wire form. `from` is the only direction it is accepted from.
struct WireForm {
  Dir from;
  std::string_view lead;  // verb ("PORT") or reply code ("227") the line starts with
  EventKind kind;
  Pending answers;  // replies: the command they answer; commands: Pending::Other
  Verb verb;        // commands: what classifyCommand() says; replies: Verb::Other
  uint16_t code;    // replies: the reply code; commands: 0
  AddrParse (*parse)(std::string_view line);
  // Writes the address text for `ep` (delim: EPRT/229's delimiter); 0 when it cannot.
  size_t (*format)(const Endpoint& ep, char delim, std::span<char> out);
  // The text before the port for address `a` ("198,18,0,2," / "|1|198.18.0.2|"), so the
  // part of an address still arriving can be spliced early. nullptr: the line is held whole.
  size_t (*addressPrefix)(const IpAddr& a, char delim, std::span<char> out);
  bool delimited;            // the first byte of the argument is a sender-chosen delimiter
  bool longForm;             // RFC 1639: disabled unless EngineConfig::allowLongForms
  bool flagFromOther;        // a parsable line of this form from the other side is reported
                             // (refused, wrong_direction)
  std::string_view example;  // a literal line of the form
};

// Every row, in EventKind order (Port .. Lpsv228).
std::span<const WireForm> wireForms();

// The row of an announcement kind; nullptr for kinds that are not wire forms.
const WireForm* wireFormOf(EventKind kind);
// The command row of a classified verb; nullptr when the verb announces nothing.
const WireForm* commandForm(Verb verb);
// The reply row of a reply code; nullptr when the code announces nothing.
const WireForm* replyForm(uint16_t code);
// The command row whose verb and one space start `prefix` (any case); nullptr if none.
const WireForm* commandFormOfPrefix(std::string_view prefix);
// The reply row whose code and one space start `line`; nullptr if none.
const WireForm* replyFormOfLine(std::string_view line);

// The second command a reply form answers: real servers answer EPSV with 227 and PASV with 229
// (the kernel's helper accepts both), so each passive form answers the other's command too.
// Pending::Unknown for every other form.
Pending alsoAnswers(const WireForm& form);
// True when a reply of `form` is solicited by the pending command `p`.
bool answersCommand(const WireForm& form, Pending p);

}  // namespace ftpalg::core
