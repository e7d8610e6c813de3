// The conntrack entries of FTP control connections, as `ftpalg check` needs them: a ctnetlink
// dump of every TCP entry whose original destination port is a control port.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ftpalg/status.h"

namespace ftpalg::kernel {

// One control connection's conntrack entry.
struct ControlConnFacts {
  std::string client;   // original source address ("198.18.0.2")
  std::string dialled;  // original destination address (what the client dialled)
  std::string server;   // reply source address (the server after DNAT)
  uint16_t clientPort = 0;
  uint16_t port = 0;         // original destination port
  bool established = false;  // TCP state ESTABLISHED
  uint32_t timeoutS = 0;     // seconds left; refreshed by every packet
  uint32_t mark = 0;
  std::string helper;  // helper attached ("ftp", "ftpalg"), empty: none
};

// Dumps IPv4 and IPv6 entries with original destination port in `ports`.
Status dumpControlConns(const std::vector<uint16_t>& ports, std::vector<ControlConnFacts>& out);

}  // namespace ftpalg::kernel
