// Text of the rules that queue FTP control traffic to ftpalgd, in the form the running kernel
// takes, plus what else an admin adds: the whole of `ftpalg rules` and `ftpalgd --print-rules`.
//
// Two forms of the same rule (both directions of every control port to a queue range):
//   nft       table inet ftpalg_queue { chain forward { type filter hook forward priority mangle;
//               tcp dport 21 queue num 0-1 bypass ... } }       (kernels with the nft `queue`
//             expression: stock distribution kernels)
//   iptables  iptables -t mangle -A FORWARD -p tcp --dport 21 -j NFQUEUE --queue-balance 0:1
//             --queue-bypass ...                                 (any kernel with xt NFQUEUE)
// A queue range is balanced by the kernel's symmetric hash of the address pair (never `fanout`,
// which picks the queue by CPU), so both directions of a connection reach the same queue.
// `bypass` appears only in fail-open mode; there, rewritten control connections (conntrack mark
// QueueRuleSpec::sessionMark) are queued first by the same rules without bypass:
//   tcp dport 21 ct mark 0xf7a2 queue num 0-1          (then the bypass rules)
//   iptables ... --dport 21 -m connmark --mark 0xf7a2 -j NFQUEUE --queue-balance 0:1
// ACK bypass (QueueRuleSpec::ackBypass, with a sessionMark): pure ACKs (no payload, no
// SYN/FIN/RST) of control connections without the mark are accepted unqueued; a connection
// ftpalgd shifted carries the mark (set before the first shifted packet leaves) and is queued
// whole by the marked rules, which then come first in both modes. "No payload" is proved by the
// length, for the two header sizes pure ACKs have (no options; timestamps):
//   tcp dport 21 tcp flags & (fin|syn|rst) == 0 tcp doff 5 ip length 40 accept
//   tcp dport 21 tcp flags & (fin|syn|rst) == 0 tcp doff 8 ip length 52 accept   (ip6: 20, 32)
//   iptables ... --dport 21 --tcp-flags FIN,SYN,RST NONE -m length --length 40 -j ACCEPT
//   iptables ... --dport 21 --tcp-flags FIN,SYN,RST NONE --tcp-option 8 -m length --length 52
//            -j ACCEPT                                                      (ip6tables: 60, 72)
// (40 bytes of IPv4 and TCP leave no room for payload; with the timestamp option a TCP header
// has at least 32 bytes, so 52 leave none either.)
// Spreading connections (QueueRuleSpec::spreadConnections, queues 160-161): the balance above
// hashes only the address pair, so all connections of one client address to one server meet on
// one queue. Spread, each queueing rule becomes one rule per queue, picked by a symmetric hash
// of addresses and ports (the same for both directions of a connection):
//   nft       tcp dport 21 queue to symhash mod 2 offset 160            (nft `queue` kernels)
//   iptables  iptables ... --dport 21 -j HMARK --hmark-tuple src,dst,sport,dport,proto
//               --hmark-mod 2 --hmark-offset 160 --hmark-rnd 0xf7a1     (first, once per port)
//             iptables ... --dport 21 -m mark --mark 0xa0 -j NFQUEUE --queue-num 160
//             iptables ... --dport 21 -m mark --mark 0xa1 -j NFQUEUE --queue-num 161
// The iptables text writes the packet mark (HMARK has no mask); the rules ftpalgd installs in
// that form (QueueRules) compare the nft `symhash` expression instead and write no mark:
//   tcp dport 21 symhash mod 2 == 0 <xt NFQUEUE --queue-num 160>  (and == 1: 161)
// Pure text: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/name_table.h"

namespace ftpalg::kernel {

// Which statement sends packets to the queues.
#define FTPALG_QUEUE_FORMS(X) X(Nft, "nft") X(Iptables, "iptables")
enum class QueueForm : uint8_t { FTPALG_QUEUE_FORMS(FTPALG_ENUM_VALUE) };
// Which address families the queueing rules cover (the pinhole table is always inet).
#define FTPALG_QUEUE_FAMILIES(X) X(Inet, "inet") X(Ip, "ip") X(Ip6, "ip6")
enum class QueueFamily : uint8_t { FTPALG_QUEUE_FAMILIES(FTPALG_ENUM_VALUE) };

// Name of ftpalgd's own queueing table(s) (inet for the nft form; ip and ip6 for nft_compat).
inline constexpr const char* kQueueTable = "ftpalg_queue";
// Priority of the queueing chain: NF_IP_PRI_MANGLE, before the admin's filter chains.
inline constexpr int32_t kQueuePriority = -150;

// What the queueing rules must say.
struct QueueRuleSpec {
  uint16_t firstQueue = 0;
  uint16_t queueCount = 1;          // one contiguous range firstQueue..firstQueue+queueCount-1
  std::vector<uint16_t> ports{21};  // control ports, 21 first, no duplicates
  bool bypass = false;              // fail-open: with no daemon bound, packets pass uninspected
  // With bypass: control connections ftpalgd rewrote carry this conntrack mark and are queued
  // by rules without bypass ahead of the general ones, so with no daemon bound their packets
  // are dropped (and retransmitted) rather than passed unadjusted. 0: no such rules.
  uint32_t sessionMark = 0;
  // Pure ACKs of connections without sessionMark pass unqueued (see above). Needs a
  // sessionMark; false, or sessionMark 0: every packet of the control ports is queued.
  bool ackBypass = false;
  // With queueCount > 1: connections, not address pairs, are spread over the queues (many
  // clients behind one NAT address), both directions of a connection on one queue, by a
  // symmetric hash of the 5-tuple (see "Spreading connections" above). False: the kernel's
  // balance over the address pair.
  bool spreadConnections = false;
};

// True when `spec` lets pure ACKs bypass the queue (ackBypass with a session mark).
bool bypassesAcks(const QueueRuleSpec& spec);

// One pure-ACK form the bypass rules accept: TCP data offset (32-bit words) and the length
// field it makes a payload-free packet have (IPv4 total length; IPv6 payload length).
struct PureAckForm {
  uint8_t doff;
  uint16_t ip4Length;
  uint16_t ip6Length;
  uint8_t tcpOption;  // an option the form must carry (0: none), for the iptables length proof
};
inline constexpr PureAckForm kPureAckForms[] = {{5, 40, 20, 0}, {8, 52, 32, 8}};

// What the probe of the running kernel found out about the nft `queue` expression.
enum class NftQueueSupport : uint8_t { Present, Absent, Unknown };
struct NftQueueProbe {
  NftQueueSupport support = NftQueueSupport::Unknown;
  int err = 0;  // Absent: the kernel's refusal (ENOENT); Unknown: why the probe failed (EPERM)
};

// The form to use and one comment line (starting with "# ") saying what was detected and why.
struct QueueFormChoice {
  QueueForm form = QueueForm::Iptables;
  std::string why;
};

// The form for a probe result: nft only where the kernel accepted a `queue` expression.
QueueFormChoice chooseQueueForm(const NftQueueProbe& probe);
// A form the user asked for, without probing.
QueueFormChoice requestedQueueForm(QueueForm form);

std::string_view queueFormName(QueueForm form);        // "nft", "iptables"
std::string_view queueFamilyName(QueueFamily family);  // "inet", "ip", "ip6"

// The queueing rules alone: an `nft -f` table, or iptables/ip6tables command lines. Starts with
// a comment line saying fail-open or fail-closed.
std::string queueRulesText(const QueueRuleSpec& spec, QueueForm form, QueueFamily family);

// A complete forward chain with policy drop as comment lines: established/related, new control
// connections, the data connections ftpalgd marked with `mark`.
std::string forwardChainExample(const QueueRuleSpec& spec, uint32_t mark);

// Everything an admin needs, in this order: choice.why, the queueing rules, the pinhole table
// with the mark rule (kernel::rulesText), the forward chain example.
std::string adminRulesText(const QueueFormChoice& choice, const QueueRuleSpec& spec,
                           QueueFamily family, const PinholeConfig& pinhole);

}  // namespace ftpalg::kernel
