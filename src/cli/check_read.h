// `ftpalg check`: the thin readers that gather GatewayFacts from the running system (netlink
// dumps through the kernel adapters, /proc, the control socket, the events file), and the
// parsers of the text they read, which are pure and unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/check_facts.h"
#include "ftpalg/status.h"

namespace ftpalg::cli {

// Where to look, from the command line.
struct CheckSources {
  std::string controlSocket = "/run/ftpalg/control.sock";
  std::string eventsPath;  // empty: none
  size_t eventsTailBytes = 256 * 1024;
};

// Ruleset (libnftnl), queues (/proc/net/netfilter/nfnetlink_queue), control connections
// (ctnetlink). A ruleset that cannot be read is an error (needs CAP_NET_ADMIN).
Status readSample(const CheckSettings& settings, GatewaySample& out);
// /proc/sys/net/netfilter/nf_conntrack_{count,max}.
ConntrackSettings readConntrackSettings();
// Which processes own the queues' netlink sockets; ftpalgd processes; the control socket.
DaemonFacts readDaemon(const std::vector<kernel::QueueProcStats>& queues,
                       const std::string& controlSocket);
// The refusals in the last `tailBytes` of the events file.
EventFacts readEvents(const std::string& path, size_t tailBytes);

// The netlink socket inode of port id `portId` (protocol NETLINK_NETFILTER, 12) in the text of
// /proc/net/netlink; 0 when absent.
uint64_t netlinkInode(std::string_view procNetNetlink, uint32_t portId);
// The value of a string field in one compact JSON line ("kind" -> "pasv227"); empty if absent.
std::string jsonField(std::string_view line, std::string_view key);
// The refusals among JSON event lines (a partial first line is skipped).
std::vector<RefusalEvent> parseRefusals(std::string_view text);
// "events = \"/var/log/x\"" style keys of ftpalgd's TOML file: the string value of `key`, or
// empty (a deliberately small reader: top-level `key = "value"` lines only).
std::string configString(std::string_view toml, std::string_view key);

}  // namespace ftpalg::cli
