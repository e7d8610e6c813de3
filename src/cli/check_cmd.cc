#include "cli/check_cmd.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/check_diagnose.h"
#include "cli/check_read.h"
#include "cli/replay_options.h"
#include "ftpalg/core/number.h"

namespace ftpalg::cli {
namespace {

Status makeSettings(const CheckOptions& o, CheckSettings& s, CheckSources& src) {
  std::string_view rest = o.ports;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    uint16_t port = 0;
    if (Status st = parsePort(rest.substr(0, comma), port); !st.ok()) {
      return Status::error(fmt::format("--ports {}: {}", o.ports, st.message()));
    }
    if (port != 21) s.ports.push_back(port);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!o.mark.empty()) {
    uint32_t mark = 0;
    if (!core::parseDecimalOrHex<uint32_t>(o.mark, mark, 1, UINT32_MAX)) {
      return Status::error(fmt::format("--mark {}: not a mark 1..0xffffffff", o.mark));
    }
    s.mark = mark;
  }
  if (o.intervalS < 0 || o.intervalS > 60) {
    return Status::error(fmt::format("--interval {}: out of range 0..60", o.intervalS));
  }
  std::string toml;
  if (!o.config.empty()) {
    std::ifstream in(o.config);
    if (!in) return Status::error(errno, fmt::format("--config {}", o.config));
    std::ostringstream text;
    text << in.rdbuf();
    toml = text.str();
  }
  const std::string table = o.table.empty() ? configString(toml, "table") : o.table;
  if (!table.empty()) s.table = table;
  src.eventsPath = o.events.empty() ? configString(toml, "events") : o.events;
  if (src.eventsPath == "-") src.eventsPath.clear();  // stdout: nothing to read back
  const std::string sock = configString(toml, "control_socket");
  src.controlSocket =
      !sock.empty() && o.controlSocket == CheckOptions{}.controlSocket ? sock : o.controlSocket;
  return {};
}

}  // namespace

int runCheck(const CheckOptions& options, Status& error) {
  GatewayFacts f;
  CheckSources src;
  if (Status s = makeSettings(options, f.settings, src); !s.ok()) {
    error = s;
    return kExitCheckFailed;
  }
  f.conntrack = readConntrackSettings();
  if (Status s = readSample(f.settings, f.first); !s.ok()) {
    error = Status::error(s.err(), s.what() + " (ftpalg check needs CAP_NET_ADMIN: run as root)");
    return kExitCheckFailed;
  }
  if (options.intervalS > 0) {
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::duration<double>(options.intervalS));
    if (Status s = readSample(f.settings, f.second); !s.ok()) {
      error = s;
      return kExitCheckFailed;
    }
    f.sampledTwice = true;
    f.intervalS = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  f.daemon = readDaemon(f.first.queues, src.controlSocket);
  f.events = readEvents(src.eventsPath, src.eventsTailBytes);
  const Findings findings = diagnose(f);
  const std::string text = options.json ? formatFindingsJson(findings) : formatFindings(findings);
  std::fputs(text.c_str(), stdout);
  return exitStatus(findings);
}

}  // namespace ftpalg::cli
