#include "daemon/control_request.h"

#include "ftpalg/core/number.h"

namespace ftpalg::daemon {
namespace {

// "1.2.3.4:21" or "[2001:db8::1]:21".
bool parseEndpointText(std::string_view text, core::Endpoint& out) {
  std::string_view addr;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find("]:");
    if (close == std::string_view::npos) return false;
    addr = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    addr = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  core::IpAddr ip;
  if (!core::parseIp(addr, ip)) return false;
  const bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed != (ip.family == core::Family::V6)) return false;
  uint16_t p = 0;
  if (!core::parseNumber<uint16_t>(port, p, 1, 65535)) return false;
  out = core::Endpoint{ip, p};
  return true;
}

}  // namespace

std::string_view requestErrorName(RequestError e) {
  switch (e) {
    case RequestError::None:
      return "none";
    case RequestError::TooLong:
      return "request_too_long";
    case RequestError::Empty:
      return "empty_request";
    case RequestError::UnknownCommand:
      return "unknown_command";
    case RequestError::BadFlow:
      return "bad_flow";
  }
  return "unknown";
}

bool parseFlowText(std::string_view text, core::FlowKey& out) {
  // The separator is the first '-' outside brackets (IPv6 text has none).
  size_t dash = std::string_view::npos;
  bool inBracket = false;
  for (size_t i = 0; i < text.size() && dash == std::string_view::npos; ++i) {
    if (text[i] == '[') inBracket = true;
    if (text[i] == ']') inBracket = false;
    if (text[i] == '-' && !inBracket) dash = i;
  }
  if (dash == std::string_view::npos) return false;
  core::FlowKey k;
  if (!parseEndpointText(text.substr(0, dash), k.client) ||
      !parseEndpointText(text.substr(dash + 1), k.server) ||
      k.client.addr.family != k.server.addr.family) {
    return false;
  }
  out = k;
  return true;
}

RequestError parseControlRequest(std::string_view line, ControlRequest& out) {
  if (line.size() > kMaxRequestBytes) return RequestError::TooLong;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return RequestError::Empty;
  if (line == "status") {
    out = ControlRequest{};
    return RequestError::None;
  }
  if (line == "takeover") {
    out = ControlRequest{};
    out.kind = ControlRequest::Kind::Takeover;
    return RequestError::None;
  }
  constexpr std::string_view kSession = "session ";
  if (line.substr(0, kSession.size()) != kSession) return RequestError::UnknownCommand;
  ControlRequest r;
  r.kind = ControlRequest::Kind::Session;
  if (!parseFlowText(line.substr(kSession.size()), r.flow)) return RequestError::BadFlow;
  out = r;
  return RequestError::None;
}

}  // namespace ftpalg::daemon
