#include "cli/rules_cmd.h"

#include <fmt/format.h>

#include <algorithm>

#include "cli/replay_options.h"
#include "ftpalg/core/number.h"
#include "ftpalg/defaults.h"
#include "ftpalg/kernel/nft_queue_probe.h"

namespace ftpalg::cli {
namespace {

constexpr uint32_t kMaxQueues = defaults::kMaxQueues;
constexpr size_t kMaxPorts = 8;  // EngineConfig::controlPorts, 21 included
using defaults::kMaxPinholeTimeoutS;
using defaults::kMaxTableName;

// Whole string, decimal, at most `digits` digits, no sign or spaces.
bool parseDecimal(std::string_view text, size_t digits, uint64_t& out) {
  return core::parseNumber<uint64_t>(text, out, 0, UINT64_MAX, digits);
}

// An nft identifier: a letter, then letters, digits and '_'.
bool isTableName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTableName) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9') || c == '_'; });
}

}  // namespace

Status parseQueueRange(std::string_view text, uint16_t& first, uint16_t& count) {
  const size_t dash = text.find('-');
  uint64_t lo = 0, hi = 0;
  const bool ok = dash == std::string_view::npos ? parseDecimal(text, 5, lo) && (hi = lo, true)
                                                 : parseDecimal(text.substr(0, dash), 5, lo) &&
                                                       parseDecimal(text.substr(dash + 1), 5, hi);
  if (!ok || hi > 65535) {
    return Status::error(fmt::format("'{}' is not a queue number or range N-M (0..65535)", text));
  }
  if (lo > hi) return Status::error(fmt::format("'{}': the range is descending", text));
  if (hi - lo + 1 > kMaxQueues) {
    return Status::error(fmt::format("'{}': at most {} queues", text, kMaxQueues));
  }
  first = static_cast<uint16_t>(lo);
  count = static_cast<uint16_t>(hi - lo + 1);
  return {};
}

Status makeRulesRequest(const RulesOptions& options, RulesRequest& out) {
  RulesRequest r;
  if (Status s = parseQueueRange(options.queues, r.spec.firstQueue, r.spec.queueCount); !s.ok()) {
    return Status::error(fmt::format("--queues {}", s.message()));
  }

  r.spec.ports = {21};
  std::string_view rest = options.ports;
  while (!options.ports.empty()) {
    const size_t comma = rest.find(',');
    uint16_t port = 0;
    if (Status s = parsePort(rest.substr(0, comma), port); !s.ok()) {
      return Status::error(fmt::format("--ports {}: {}", options.ports, s.message()));
    }
    if (std::find(r.spec.ports.begin(), r.spec.ports.end(), port) == r.spec.ports.end()) {
      if (r.spec.ports.size() == kMaxPorts) {
        return Status::error(
            fmt::format("--ports: at most {} control ports (21 included)", kMaxPorts));
      }
      r.spec.ports.push_back(port);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }

  r.spec.bypass = options.failOpen;
  r.spec.ackBypass = !options.queueEverything;
  r.spec.spreadConnections = options.spreadConnections;
  if (options.sessionMark != "0" &&
      !core::parseDecimalOrHex<uint32_t>(options.sessionMark, r.spec.sessionMark, 1, UINT32_MAX)) {
    return Status::error(
        fmt::format("--session-mark {}: not a mark 0..0xffffffff", options.sessionMark));
  }
  if (!core::parseDecimalOrHex<uint32_t>(options.mark, r.pinhole.ctMark, 1, UINT32_MAX)) {
    return Status::error(fmt::format("--mark {}: not a mark 1..0xffffffff", options.mark));
  }
  if (options.table && !isTableName(*options.table)) {
    return Status::error(fmt::format(
        "--table {}: not a table name (a letter, then letters, digits or '_')", *options.table));
  }
  r.pinhole.table = options.table ? *options.table : defaults::tableName(r.spec.firstQueue);
  if (options.pinholeTimeoutS == 0 || options.pinholeTimeoutS > kMaxPinholeTimeoutS) {
    return Status::error(fmt::format("--pinhole-timeout {}: out of range 1..{}",
                                     options.pinholeTimeoutS, kMaxPinholeTimeoutS));
  }
  r.pinhole.timeoutMs = options.pinholeTimeoutS * 1000;

  if (options.queueForm == "auto") {
    r.form = QueueFormRequest::Auto;
  } else if (options.queueForm == "nft") {
    r.form = QueueFormRequest::Nft;
  } else if (options.queueForm == "iptables") {
    r.form = QueueFormRequest::Iptables;
  } else {
    return Status::error(
        fmt::format("--queue-form {}: expected auto, nft or iptables", options.queueForm));
  }

  if (options.family == "inet") {
    r.family = kernel::QueueFamily::Inet;
  } else if (options.family == "ip") {
    r.family = kernel::QueueFamily::Ip;
  } else if (options.family == "ip6") {
    r.family = kernel::QueueFamily::Ip6;
  } else {
    return Status::error(fmt::format("--family {}: expected inet, ip or ip6", options.family));
  }
  out = std::move(r);
  return {};
}

std::string rulesText(const RulesRequest& request) {
  kernel::QueueFormChoice choice;
  switch (request.form) {
    case QueueFormRequest::Auto:
      choice = kernel::chooseQueueForm(kernel::probeNftQueue());
      break;
    case QueueFormRequest::Nft:
      choice = kernel::requestedQueueForm(kernel::QueueForm::Nft);
      break;
    case QueueFormRequest::Iptables:
      choice = kernel::requestedQueueForm(kernel::QueueForm::Iptables);
      break;
  }
  return kernel::adminRulesText(choice, request.spec, request.family, request.pinhole);
}

}  // namespace ftpalg::cli
