// FTP control-channel wire forms: line framing, command classification, reply tracking and the
// announcement parsers (PORT, EPRT, LPRT, 227, 229, 228) plus their formatters. One source file
// per idea: src/core/line_framing.cc, ftp_parser.cc (commands, hold predicates, error names),
// reply_tracker.cc, addr_parsers.cc, addr_formatters.cc.
//
// Contract (sans-I/O, picohttpparser style): every function takes a view of the caller's bytes
// and returns a small value; nothing is copied, allocated or thrown. Spans are offsets into the
// line that was passed in, so a rewriter can splice exactly the address text. "Incomplete" and
// "invalid" are never folded together: NeedMore means "give me more bytes", Invalid carries a
// named ParseError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "ftpalg/core/types.h"

namespace ftpalg::core {

// Three-valued result of every parser.
enum class ParseStatus : uint8_t { Ok, NeedMore, Invalid };

// Why a parse failed. Closed set; the engine counts each one.
enum class ParseError : uint8_t {
  None = 0,
  LineTooLong,      // no LF within the configured maximum line length
  EmbeddedNul,      // NUL byte inside a line
  BareCr,           // CR not followed by LF
  MissingField,     // fewer fields than the wire form needs
  BadNumber,        // sign, space, non-digit or empty number
  NumberTooLong,    // more digits than the field allows
  OctetOutOfRange,  // address byte > 255
  PortOutOfRange,   // port byte > 255 or port == 0
  BadDelimiter,     // EPRT/229 delimiter outside 33..126 or not repeated consistently
  UnknownFamily,    // EPRT/LPRT family other than IPv4/IPv6
  BadAddress,       // EPRT address text is not a valid address of its family
  TrailingGarbage,  // bytes after the last field where the wire form allows none
  NoAddress,        // 227/228/229 reply without a recognisable address text
  Count
};

// Printable name of a ParseError ("line_too_long", ...), for adapters only.
std::string_view parseErrorName(ParseError e);

// Result of framing one line at the start of a buffer.
// Ok: `length` bytes of line text (terminator excluded), `consumed` includes CRLF or LF.
// NeedMore: no LF yet and the buffer is still within maxLine.
// Invalid: error says why; `consumed` is the bytes through the next LF, or 0 when no LF is in
// the buffer yet (the caller then discards input until it sees one).
struct LineFrame {
  ParseStatus status = ParseStatus::NeedMore;
  ParseError error = ParseError::None;
  size_t length = 0;
  size_t consumed = 0;
};

// Frames "PORT 1,2,3,4,5,6\r\n..." -> {Ok, length 16, consumed 18}. LF alone ends a line too.
LineFrame frameLine(std::string_view buf, size_t maxLine);

// Client commands the engine cares about; everything else is Other.
enum class Verb : uint8_t { Other, Port, Eprt, Lprt, Pasv, Epsv, Lpsv, Auth, Count };

// A classified command line. `arg` views the text after the verb and one space (may be empty).
struct Command {
  Verb verb = Verb::Other;
  bool epsvAll = false;  // "EPSV ALL"
  bool authTls = false;  // "AUTH TLS", "AUTH SSL", "AUTH TLS-C", "AUTH TLS-P" (any case)
  std::string_view arg;
};

// "port 1,2,3,4,5,6" -> {Port, arg "1,2,3,4,5,6"}. Verbs are case-insensitive; a verb must be
// followed by a space or the end of the line ("PORTX" is Other).
Command classifyCommand(std::string_view line);

// True when `prefix` (the start of a command line not yet terminated) could still become a
// PORT, EPRT or LPRT line, so the engine must not release it uninspected. "PO" -> true,
// "NOOP" -> false, "" -> true.
bool mayBeAnnouncingCommand(std::string_view prefix);
// Same for a server line: "22" -> true, "227 Ent" -> true, "150 " -> false. Continuation lines
// of a multi-line reply pass inMultiLine = true (any prefix may then carry an address).
bool mayBeAnnouncingReply(std::string_view prefix, bool inMultiLine, uint16_t multiLineCode);

// One line of a server reply, with multi-line state carried by the caller (RFC 959 4.2).
struct ReplyTracker {
  uint16_t code = 0;     // code of the reply in progress
  bool inMulti = false;  // inside "227-" ... "227 "
};

// What one line is within its reply.
struct ReplyLine {
  ParseStatus status = ParseStatus::Invalid;  // Invalid: first line without a 3-digit code
  ParseError error = ParseError::None;
  uint16_t code = 0;   // reply code this line belongs to
  bool first = false;  // first line of the reply
  bool last = false;   // last line (a single-line reply is first and last)
};

// "227-Entering" -> first, not last; "227 ok" -> last. Updates tracker.
ReplyLine trackReply(ReplyTracker& tracker, std::string_view line);

// Byte range inside a line.
struct Span {
  uint16_t offset = 0;
  uint16_t length = 0;
};

// An announced data endpoint parsed from one line.
// status Ok: ep is valid; hasAddr is false for 229 (port only). span covers exactly the text a
// rewriter replaces (see each parser). delim is the EPRT/229 delimiter.
struct AddrParse {
  ParseStatus status = ParseStatus::Invalid;
  ParseError error = ParseError::None;
  Endpoint ep;
  bool hasAddr = false;
  Span span;
  char delim = 0;
};

// Common to the parsers below: the result never is NeedMore (they take a framed line); a line
// longer than 65535 bytes is Invalid/LineTooLong (spans are 16-bit). PORT, EPRT and LPRT allow
// only spaces after the last field (else TrailingGarbage). EPRT/229 delimiters are 33..126
// except the digits '0'..'9', which would make the number fields ambiguous (BadDelimiter).

// "PORT 192,168,1,2,4,1" -> 192.168.1.2:1025, span "192,168,1,2,4,1". Takes the whole line.
AddrParse parsePort(std::string_view line);
// "EPRT |2|2001:db8::1|6275|" -> span "|2|2001:db8::1|6275|" (delimiters included).
AddrParse parseEprt(std::string_view line);
// "LPRT 4,4,132,235,1,2,2,24,131" (RFC 1639) -> span from the first number to the last.
AddrParse parseLprt(std::string_view line);
// "227 Entering Passive Mode (192,168,1,2,4,1)." -> span "192,168,1,2,4,1". The six numbers
// may stand anywhere in the text, with or without parentheses; the first valid group wins.
AddrParse parse227(std::string_view line);
// "229 Entering Extended Passive Mode (|||6446|)" -> port 6446, span "|||6446|".
AddrParse parse229(std::string_view line);
// "228 Entering Long Passive Mode (4,4,1,2,3,4,2,24,131)" -> span from first to last number.
AddrParse parse228(std::string_view line);

// Formatters return 0 (write nothing useful) when the endpoint cannot be expressed so that it
// parses back to itself: port 0, a family the form cannot carry, a delimiter outside the
// parser's set, or (EPRT) a delimiter that occurs in the address text.
// "192,168,1,2,4,1" for PORT and 227. Returns length, 0 if out is too small (needs 24).
size_t formatPortText(const Endpoint& ep, std::span<char> out);
// "|1|192.168.1.2|1025|" (or |2|...); returns length, 0 if out too small (needs 64).
size_t formatEprtText(const Endpoint& ep, char delim, std::span<char> out);
// "|||1025|"; returns length, 0 if out too small (needs 12).
size_t format229Text(uint16_t port, char delim, std::span<char> out);
// "4,4,1,2,3,4,2,4,1" / "6,16,...,2,4,1" for LPRT and 228; needs 80.
size_t formatLongText(const Endpoint& ep, std::span<char> out);

}  // namespace ftpalg::core
