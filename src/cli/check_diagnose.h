// `ftpalg check`: one function per diagnosis, each taking the facts already read (check_facts.h)
// and appending its findings. No I/O: every diagnosis is unit-tested on hand-built facts.
// docs/check.md lists each finding id with its meaning and fix.
#pragma once

#include "cli/check_facts.h"
#include "cli/check_findings.h"

namespace ftpalg::cli {

// conntrack_unavailable, conntrack_table_full.
void diagnoseConntrack(const GatewayFacts& facts, Findings& out);
// (1) no_queue_rule, queue_rule_one_direction: no rule queues the control ports.
void diagnoseQueueRules(const GatewayFacts& facts, Findings& out);
// (2) queue_rule_not_hit: control connections carried packets between the two samples, the
// queue rules counted none.
void diagnoseQueueNotHit(const GatewayFacts& facts, Findings& out);
// (3) queue_rule_shadowed: an accept/drop before the queue rule ends the chain for port 21.
void diagnoseQueueShadowed(const GatewayFacts& facts, Findings& out);
// (4) forward_no_mark_accept (pinhole mode), forward_no_related_accept (expectation mode).
void diagnoseForwardAccept(const GatewayFacts& facts, Findings& out);
// (5) daemon_not_bound, queue_bound_by_other, daemon_not_running, control_socket_stale.
void diagnoseDaemon(const GatewayFacts& facts, Findings& out);
// (6) kernel_ftp_helper: nf_conntrack_ftp attached to the connections ftpalgd rewrites.
void diagnoseKernelHelper(const GatewayFacts& facts, Findings& out);
// (7) helper_after_dnat: `ct helper set` runs after destination NAT.
void diagnoseHelperAfterDnat(const GatewayFacts& facts, Findings& out);
// (8) pinhole_table_missing, pinhole_table_empty.
void diagnosePinholeTable(const GatewayFacts& facts, Findings& out);
// (9) notrack_control_port.
void diagnoseNotrack(const GatewayFacts& facts, Findings& out);
// (10) server_foreign_address (from the daemon's refusals); events_unreadable.
void diagnoseForeignAddress(const GatewayFacts& facts, Findings& out);
// (11) queue_drops: the kernel's drop counters grew between the samples.
void diagnoseQueueDrops(const GatewayFacts& facts, Findings& out);

// Every diagnosis above, in this order.
Findings diagnose(const GatewayFacts& facts);

}  // namespace ftpalg::cli
