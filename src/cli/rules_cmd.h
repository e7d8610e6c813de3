// `ftpalg rules`: its options, their translation into what the kernel adapters print, and the
// text itself. Its own library (ftpalg_rules) because it links ftpalg_kernel (the probe of the
// running kernel), which `ftpalg replay` does not need.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ftpalg/defaults.h"
#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/kernel/queue_rules_text.h"
#include "ftpalg/status.h"

namespace ftpalg::cli {

// What the user asked `ftpalg rules` for, as given on the command line.
struct RulesOptions {
  std::string queues = "0";               // "N" or "N-M": one contiguous range
  std::string ports;                      // control ports besides 21, e.g. "2121" or "21,2121"
  bool failOpen = false;                  // the rules get bypass
  std::string mark{defaults::kMarkText};  // conntrack mark of admitted data connections
  std::optional<std::string> table;       // pinhole table name; unset: ftpalg_q<first queue>
  uint32_t pinholeTimeoutS = defaults::kPinholeTimeoutS;  // lifetime of a pinhole
  std::string queueForm = "auto";                         // auto, nft or iptables
  std::string family = "inet";                            // inet, ip or ip6 (queueing rules only)
  // Conntrack mark of rewritten control connections ("0": none), queued without bypass.
  std::string sessionMark{defaults::kSessionMarkText};
  // Queue the pure ACKs of every control connection too (default: those of connections without
  // the session mark pass unqueued; needs a session mark).
  bool queueEverything = false;
  bool spreadConnections = false;  // --spread-connections (queue_rules_text.h)
};

// auto: probe the running kernel for the nft `queue` expression.
enum class QueueFormRequest : uint8_t { Auto, Nft, Iptables };

// The checked request.
struct RulesRequest {
  kernel::QueueRuleSpec spec;
  kernel::PinholeConfig pinhole;
  QueueFormRequest form = QueueFormRequest::Auto;
  kernel::QueueFamily family = kernel::QueueFamily::Inet;
};

// "0" -> {0, 1}, "0-3" -> {0, 4}. Decimal 0..65535, first <= last, at most 64 queues.
Status parseQueueRange(std::string_view text, uint16_t& first, uint16_t& count);

// Checks every option; messages name the option ("--mark 0: ...").
Status makeRulesRequest(const RulesOptions& options, RulesRequest& out);

// Everything `ftpalg rules` prints for a checked request (kernel::adminRulesText). With
// QueueFormRequest::Auto it first probes the running kernel (kernel::probeNftQueue).
std::string rulesText(const RulesRequest& request);

}  // namespace ftpalg::cli
