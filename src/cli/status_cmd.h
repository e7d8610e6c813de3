// `ftpalg status`: asks ftpalgd's control socket (docs/daemon.md, "Status") and prints live
// sessions like `conntrack -L`, each queue's load and counters; --json passes the daemon's JSON
// through, --session FLOW shows one session and its recent events, --watch refreshes. Its own
// library (ftpalg_status): it needs neither the kernel adapters nor libpcap.
#pragma once

#include <cstdint>
#include <string>

#include "ftpalg/defaults.h"
#include "ftpalg/status.h"

namespace ftpalg::cli {

// What the user asked `ftpalg status` for.
struct StatusOptions {
  std::string socket{defaults::kControlSocket};
  bool json = false;
  std::string session;        // FLOW: "<client>-<server>" as the events show it; "" : all
  uint32_t watchS = 0;        // refresh every N seconds (1..3600); 0: once
  uint32_t count = 0;         // with --watch: stop after N rounds; 0: until interrupted
  uint32_t timeoutMs = 5000;  // the whole exchange with the daemon
};

// One request line to the socket at `path`, the response (one JSON document) into `out`.
// Errors name the cause: no daemon or no socket, permission denied, timeout.
Status queryControl(const std::string& path, const std::string& request, uint32_t timeoutMs,
                    std::string& out);

// The text of a "status" response (one line per session, then queue load and counters) or of
// a "session" response (the session's line, then its events, one per line). Errors in the
// response (bad JSON, "error") come back as a Status.
Status renderStatus(const std::string& response, std::string& out);
Status renderSession(const std::string& response, std::string& out);

// Runs the command: output on stdout; returns the exit status (0 ok, 1 a queue did not
// answer, 2 error; messages on stderr).
int runStatus(const StatusOptions& options);

}  // namespace ftpalg::cli
