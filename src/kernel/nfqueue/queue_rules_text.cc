#include "ftpalg/kernel/queue_rules_text.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "kernel/nftables/rules_text.h"

namespace ftpalg::kernel {
namespace {

struct Tool {
  const char* name;
  QueueFamily family;
};
constexpr Tool kTools[] = {{"iptables", QueueFamily::Ip}, {"ip6tables", QueueFamily::Ip6}};

std::string modeLine(const QueueRuleSpec& spec) {
  return fmt::format("# FTP control traffic to ftpalgd ({}: {}).\n",
                     spec.bypass ? "fail-open" : "fail-closed",
                     spec.bypass ? "with no daemon, control traffic passes uninspected"
                                 : "with no daemon, control traffic is dropped");
}

// "21" or "{ 21, 2121 }": the nft right-hand side matching any control port.
std::string nftPorts(const QueueRuleSpec& spec) {
  if (spec.ports.size() == 1) return fmt::format("{}", spec.ports.front());
  return fmt::format("{{ {} }}", fmt::join(spec.ports, ", "));
}

// Connections spread over a queue range by a symmetric 5-tuple hash (queue_rules_text.h).
bool spreads(const QueueRuleSpec& spec) { return spec.spreadConnections && spec.queueCount > 1; }

// "queue num 0", "queue num 0-3 bypass", spread: "queue flags bypass to symhash mod 4 offset 0".
std::string nftQueue(const QueueRuleSpec& spec) {
  if (spreads(spec)) {
    return fmt::format("queue {}to symhash mod {} offset {}", spec.bypass ? "flags bypass " : "",
                       spec.queueCount, spec.firstQueue);
  }
  std::string out = fmt::format("queue num {}", spec.firstQueue);
  if (spec.queueCount > 1) out += fmt::format("-{}", spec.firstQueue + spec.queueCount - 1);
  if (spec.bypass) out += " bypass";
  return out;
}

// Rules for marked (rewritten, shifted) sessions come first, queued without bypass: in fail-open
// mode, and wherever pure ACKs of unmarked sessions bypass the queue.
bool hasSessionRules(const QueueRuleSpec& spec) {
  return (spec.bypass && spec.sessionMark != 0) || bypassesAcks(spec);
}

QueueRuleSpec withoutBypass(const QueueRuleSpec& spec) {
  QueueRuleSpec s = spec;
  s.bypass = false;
  return s;
}

// The pure-ACK accept rules of the nft form (queue_rules_text.h).
std::string nftAckRules(const QueueRuleSpec& spec, QueueFamily family) {
  std::string out;
  for (const char* dir : {"dport", "sport"}) {
    for (const PureAckForm& f : kPureAckForms) {
      const auto line = [&](const char* field, uint16_t len) {
        out +=
            fmt::format("\t\ttcp {} {} tcp flags & (fin|syn|rst) == 0 tcp doff {} {} {} accept\n",
                        dir, nftPorts(spec), f.doff, field, len);
      };
      if (family != QueueFamily::Ip6) line("ip length", f.ip4Length);
      if (family != QueueFamily::Ip) line("ip6 length", f.ip6Length);
    }
  }
  return out;
}

std::string nftText(const QueueRuleSpec& spec, QueueFamily family) {
  std::string out = fmt::format(
      "table {} {} {{\n"
      "\tchain forward {{\n"
      "\t\ttype filter hook forward priority mangle; policy accept;\n",
      queueFamilyName(family), kQueueTable);
  if (hasSessionRules(spec)) {
    for (const char* dir : {"dport", "sport"}) {
      out += fmt::format("\t\ttcp {} {} ct mark {:#x} {}\n", dir, nftPorts(spec), spec.sessionMark,
                         nftQueue(withoutBypass(spec)));
    }
  }
  if (bypassesAcks(spec)) out += nftAckRules(spec, family);
  for (const char* dir : {"dport", "sport"}) {
    out += fmt::format("\t\ttcp {} {} {}\n", dir, nftPorts(spec), nftQueue(spec));
  }
  out += "\t}\n}\n";
  return out;
}

std::string iptablesRules(const QueueRuleSpec& spec, QueueFamily family, const std::string& match,
                          const std::string& target);
std::string nfqueueTarget(const QueueRuleSpec& spec);

// The pure-ACK accept rules of the iptables form (queue_rules_text.h); the length match is the
// IP packet's (IPv4 total length, or 40 plus the IPv6 payload length).
std::string iptablesAckRules(const QueueRuleSpec& spec, QueueFamily family) {
  std::string out;
  for (const PureAckForm& f : kPureAckForms) {
    const std::string flags =
        f.tcpOption != 0 ? fmt::format(" --tcp-flags FIN,SYN,RST NONE --tcp-option {}", f.tcpOption)
                         : std::string(" --tcp-flags FIN,SYN,RST NONE");
    for (const Tool& t : kTools) {
      if (family != QueueFamily::Inet && family != t.family) continue;
      const uint16_t len = t.family == QueueFamily::Ip ? f.ip4Length : f.ip6Length + 40;
      out += iptablesRules(spec, t.family, fmt::format("{} -m length --length {}", flags, len),
                           "-j ACCEPT");
    }
  }
  return out;
}

// The queueing rules of `spec` after `match`: one rule per direction, or spread, one per
// direction and queue, each matching the mark HMARK gave the packet (its queue number).
std::string iptablesQueueRules(const QueueRuleSpec& spec, QueueFamily family,
                               const std::string& match) {
  if (!spreads(spec)) return iptablesRules(spec, family, match, nfqueueTarget(spec));
  std::string out;
  for (uint32_t i = 0; i < spec.queueCount; ++i) {
    const uint32_t q = spec.firstQueue + i;
    out += iptablesRules(
        spec, family, fmt::format("{} -m mark --mark {:#x}", match, q),
        fmt::format("-j NFQUEUE --queue-num {}{}", q, spec.bypass ? " --queue-bypass" : ""));
  }
  return out;
}

std::string iptablesText(const QueueRuleSpec& spec, QueueFamily family) {
  std::string out;
  if (spreads(spec)) {
    out = iptablesRules(spec, family, "",
                        fmt::format("-j HMARK --hmark-tuple src,dst,sport,dport,proto --hmark-mod "
                                    "{} --hmark-offset {} --hmark-rnd 0xf7a1",
                                    spec.queueCount, spec.firstQueue));
  }
  if (hasSessionRules(spec)) {
    out += iptablesQueueRules(withoutBypass(spec), family,
                              fmt::format(" -m connmark --mark {:#x}", spec.sessionMark));
  }
  if (bypassesAcks(spec)) out += iptablesAckRules(spec, family);
  return out + iptablesQueueRules(spec, family, "");
}

// "-j NFQUEUE --queue-num 0", "-j NFQUEUE --queue-balance 0:1 --queue-bypass".
std::string nfqueueTarget(const QueueRuleSpec& spec) {
  std::string target;
  if (spec.queueCount > 1) {
    target = fmt::format("-j NFQUEUE --queue-balance {}:{}", spec.firstQueue,
                         spec.firstQueue + spec.queueCount - 1);
  } else {
    target = fmt::format("-j NFQUEUE --queue-num {}", spec.firstQueue);
  }
  if (spec.bypass) target += " --queue-bypass";
  return target;
}

// The rules of every tool for `family`; `match` goes after the port match.
std::string iptablesRules(const QueueRuleSpec& spec, QueueFamily family, const std::string& match,
                          const std::string& target) {
  const std::string ports = fmt::format("{}", fmt::join(spec.ports, ","));
  const bool multi = spec.ports.size() > 1;
  std::string out;
  for (const Tool& t : kTools) {
    if (family != QueueFamily::Inet && family != t.family) continue;
    const char* tool = t.name;
    for (const char* dir : {"d", "s"}) {
      out += multi ? fmt::format("{} -t mangle -A FORWARD -p tcp -m multiport --{}ports {}{} {}\n",
                                 tool, dir, ports, match, target)
                   : fmt::format("{} -t mangle -A FORWARD -p tcp --{}port {}{} {}\n", tool, dir,
                                 ports, match, target);
    }
  }
  return out;
}

}  // namespace

#define FTPALG_ROW(value, name) {QueueForm::value, name},
constexpr NameRow<QueueForm> kQueueForms[] = {FTPALG_QUEUE_FORMS(FTPALG_ROW)};
#undef FTPALG_ROW
#define FTPALG_ROW(value, name) {QueueFamily::value, name},
constexpr NameRow<QueueFamily> kQueueFamilies[] = {FTPALG_QUEUE_FAMILIES(FTPALG_ROW)};
#undef FTPALG_ROW
static_assert(completeNameTable(kQueueForms, std::size(kQueueForms)));
static_assert(completeNameTable(kQueueFamilies, std::size(kQueueFamilies)));

bool bypassesAcks(const QueueRuleSpec& spec) { return spec.ackBypass && spec.sessionMark != 0; }

std::string_view queueFormName(QueueForm form) { return nameOf(kQueueForms, form); }
std::string_view queueFamilyName(QueueFamily family) { return nameOf(kQueueFamilies, family); }

QueueFormChoice chooseQueueForm(const NftQueueProbe& probe) {
  switch (probe.support) {
    case NftQueueSupport::Present:
      return {QueueForm::Nft,
              "# nft queue form: this kernel accepted an nft `queue` expression (probed in a "
              "scratch table, deleted in the same transaction)"};
    case NftQueueSupport::Absent:
      return {QueueForm::Iptables,
              fmt::format("# iptables NFQUEUE form: this kernel has no nft `queue` expression "
                          "(probed in a scratch table: {})",
                          std::strerror(probe.err))};
    case NftQueueSupport::Unknown:
      break;
  }
  if (probe.err == EPERM) {
    return {QueueForm::Iptables,
            "# iptables NFQUEUE form: without CAP_NET_ADMIN the kernel could not be probed for "
            "the nft `queue` expression (Operation not permitted); run as root to detect it"};
  }
  return {QueueForm::Iptables,
          fmt::format("# iptables NFQUEUE form: the probe for the nft `queue` expression failed "
                      "({})",
                      std::strerror(probe.err))};
}

QueueFormChoice requestedQueueForm(QueueForm form) {
  return {form, form == QueueForm::Nft ? "# nft queue form (requested; the kernel was not probed)"
                                       : "# iptables NFQUEUE form (requested; the kernel was not "
                                         "probed)"};
}

std::string queueRulesText(const QueueRuleSpec& spec, QueueForm form, QueueFamily family) {
  return modeLine(spec) +
         (form == QueueForm::Nft ? nftText(spec, family) : iptablesText(spec, family));
}

std::string forwardChainExample(const QueueRuleSpec& spec, uint32_t mark) {
  return fmt::format(
      "# A complete forward chain with policy drop, for example:\n"
      "#\ttable inet filter {{\n"
      "#\t\tchain forward {{\n"
      "#\t\t\ttype filter hook forward priority filter; policy drop;\n"
      "#\t\t\tct state established,related accept\n"
      "#\t\t\tct state new tcp dport {} accept\n"
      "#\t\t\tct mark {:#010x} accept\n"
      "#\t\t}}\n"
      "#\t}}\n",
      nftPorts(spec), mark);
}

std::string adminRulesText(const QueueFormChoice& choice, const QueueRuleSpec& spec,
                           QueueFamily family, const PinholeConfig& pinhole) {
  std::string out = choice.why;
  out += "\n\n";
  out += queueRulesText(spec, choice.form, family);
  out += "\n";
  out += rulesText(pinhole);
  out += "\n";
  out += forwardChainExample(spec, pinhole.ctMark);
  return out;
}

}  // namespace ftpalg::kernel
