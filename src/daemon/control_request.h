// The control socket's request line (docs/daemon.md, "Status"): one line of at most
// kMaxRequestBytes, "status", "session <client>-<server>" or "takeover", ended by "\n". Pure
// parsing, no I/O.
#pragma once

#include <cstddef>
#include <string_view>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

inline constexpr size_t kMaxRequestBytes = 256;

// A parsed request.
struct ControlRequest {
  // Takeover: "takeover", re-create the pinholes of announcements found in conntrack labels
  // (ct_state_takeover.h).
  enum class Kind : uint8_t { Status, Session, Takeover };
  Kind kind = Kind::Status;
  core::FlowKey flow;  // Kind::Session
};

// Why a request line was refused (names are the response's "code").
enum class RequestError : uint8_t { None, TooLong, Empty, UnknownCommand, BadFlow };
std::string_view requestErrorName(RequestError e);

// Parses `line` (without its "\n"; a trailing "\r" is allowed).
RequestError parseControlRequest(std::string_view line, ControlRequest& out);

// "198.18.0.2:40000-198.19.0.2:21" or "[2001:db8::2]:40000-[2001:db8:1::2]:21": the form
// flowText() writes. Whole string, ports 1..65535, both endpoints of one family.
bool parseFlowText(std::string_view text, core::FlowKey& out);

}  // namespace ftpalg::daemon
