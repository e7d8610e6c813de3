// `ftpalg check`: everything the diagnoses look at, already read from the running gateway (by
// check_read.h) or built by hand in the unit tests. Plain values, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ftpalg/kernel/conntrack_facts.h"
#include "ftpalg/kernel/queue_stats_proc.h"
#include "ftpalg/kernel/ruleset_facts.h"

namespace ftpalg::cli {

// What the admin told `ftpalg check` about the daemon's configuration.
struct CheckSettings {
  std::vector<uint16_t> ports{21};   // control ports
  std::optional<uint32_t> mark;      // data connection mark; unset: read from the pinhole table
  std::optional<std::string> table;  // pinhole table; unset: ftpalg_q<first queue of the rules>
};

// One look at the things that change: rules (their counters), queues, control connections.
struct GatewaySample {
  kernel::Ruleset ruleset;
  std::vector<kernel::QueueProcStats> queues;   // /proc/net/netfilter/nfnetlink_queue
  std::vector<kernel::ControlConnFacts> conns;  // conntrack entries of control connections
  bool connsRead = false;                       // the conntrack dump worked
};

// A process with a NETLINK_NETFILTER socket bound to a queue's port id.
struct QueueOwner {
  uint16_t queue = 0;
  uint32_t portId = 0;
  int pid = 0;  // 0: not found (another namespace's process, or hidden)
  std::string comm;
};

// The daemon as seen from outside.
struct DaemonFacts {
  std::vector<QueueOwner> owners;  // one per bound queue
  std::vector<int> ftpalgdPids;    // processes named ftpalgd
  std::string controlSocket;       // path looked at
  bool controlSocketExists = false;
  bool controlSocketAccepts = false;
  std::string controlSocketError;  // why connect() failed
};

// The conntrack settings that matter.
struct ConntrackSettings {
  bool present = false;  // /proc/sys/net/netfilter/nf_conntrack_max exists
  uint64_t count = 0;
  uint64_t max = 0;
};

// One refusal from the daemon's events file (the fields of the JSON line).
struct RefusalEvent {
  std::string flow;  // "client:port-server:21"
  std::string dir;   // "c2s", "s2c"
  std::string kind;  // "pasv227", ...
  std::string reason;
  std::string announced;  // "198.18.1.99:40000"
};

// The daemon's recent events.
struct EventFacts {
  std::string path;  // empty: none configured
  bool readable = false;
  std::string error;
  std::vector<RefusalEvent> refusals;  // from the file's tail, oldest first
};

// Everything, with the two samples (second only when sampledTwice).
struct GatewayFacts {
  CheckSettings settings;
  GatewaySample first;
  GatewaySample second;
  bool sampledTwice = false;
  double intervalS = 0;
  ConntrackSettings conntrack;
  DaemonFacts daemon;
  EventFacts events;
};

}  // namespace ftpalg::cli
