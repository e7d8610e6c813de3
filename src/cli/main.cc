// ftpalg: command-line entry point. Subcommands: `replay`, `rules`, `check`, `status`.
// Exit status: 0 success, 2 bad arguments or an input/output that cannot be used; every
// failure is one line "ftpalg: error: ..." on stderr.
// g++ 12 at -O2 reports a false -Wnull-dereference inside CLI11's inlined std::string code
// (CLI::detail::split); it is not ours to fix, and this file has no pointer arithmetic.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/check_cmd.h"
#include "cli/check_findings.h"
#include "cli/replay.h"
#include "cli/replay_options.h"
#include "cli/rules_cmd.h"
#include "cli/status_cmd.h"
#include "cli/takeover_cmd.h"
#include "ftpalg/report/replay_summary.h"
#include "ftpalg/status.h"

namespace {

// Keep in step with project(VERSION) in the top-level CMakeLists.txt.
constexpr const char* kVersion = "ftpalg 0.1.0";
constexpr int kExitError = 2;

constexpr const char* kReplayFooter =
    R"(NAT: --snat PRIVATE=PUBLIC says the client PRIVATE reaches servers as PUBLIC; --dnat
PUBLIC=PRIVATE says the server clients dial as PUBLIC is PRIVATE on its own wire. Both are
repeatable and take IPv4 or IPv6 addresses. They only tell the engine which addresses the NAT
uses: packet IP headers are not rewritten. The output capture differs from the input only where
the engine changes something: FTP payload, TCP sequence and acknowledgement numbers, SACK.
The output capture has the input's link type (pcap, nanosecond timestamps); events are JSON
lines; a summary goes to stderr.)";

constexpr const char* kRulesFooter =
    R"(Prints, for the running kernel, the queueing rules (nft `queue` where the kernel has the
nft queue expression, else iptables/ip6tables NFQUEUE lines), the pinhole table ftpalgd creates,
and an example forward chain. --queue-form auto probes the kernel with a scratch nf_tables
transaction that leaves nothing behind; it needs CAP_NET_ADMIN and falls back to the iptables
form without it. The options mirror ftpalgd's (--queues, --ports, --fail-open, --mark, --table,
--pinhole-timeout): give both the same values.)";

int fail(const std::string& message) {
  std::fputs(fmt::format("ftpalg: error: {}\n", message).c_str(), stderr);
  return kExitError;
}

void addReplay(CLI::App& app, ftpalg::cli::ReplayOptions& o) {
  CLI::App* replay = app.add_subcommand("replay", "Run a capture through the FTP gateway engine");
  replay->footer(kReplayFooter);
  replay->add_option("--in", o.inPath, "Input capture (pcap or pcapng)")
      ->required()
      ->type_name("FILE");
  replay->add_option("--out", o.outPath, "Output capture, same link type as the input")
      ->type_name("FILE");
  replay->add_option("--events", o.eventsPath, "Events as JSON lines ('-' = stdout)")
      ->type_name("FILE");
  replay->add_option("--snat", o.snat, "Client behind SNAT: PRIVATE=PUBLIC (repeatable)")
      ->type_name("PRIVATE=PUBLIC");
  replay->add_option("--dnat", o.dnat, "Server behind DNAT: PUBLIC=PRIVATE (repeatable)")
      ->type_name("PUBLIC=PRIVATE");
  replay->add_option("--ports", o.ports, "More FTP control ports besides 21, e.g. 2121,2122")
      ->type_name("PORT[,PORT...]");
  replay->add_flag("--allow-bounce", o.allowBounce,
                   "Admit PORT/EPRT/227 that name a host other than the announcing peer");
  replay->add_flag("--allow-low-ports", o.allowLowPorts, "Admit data ports below 1024");
  replay->add_flag("--allow-long-forms", o.allowLongForms, "Handle LPRT/LPSV (RFC 1639)");
  replay->add_flag("--quiet,-q", o.quiet, "No summary on stderr");
}

void addRules(CLI::App& app, ftpalg::cli::RulesOptions& o) {
  CLI::App* rules = app.add_subcommand("rules", "Print the rules an admin adds for ftpalgd");
  rules->footer(kRulesFooter);
  rules->add_option("--queues", o.queues, "Queue number or contiguous range (default 0)")
      ->type_name("N[-M]");
  rules->add_option("--ports", o.ports, "More FTP control ports besides 21, e.g. 2121,2122")
      ->type_name("PORT[,PORT...]");
  rules->add_flag("--fail-open", o.failOpen,
                  "Rules let control traffic pass uninspected while no daemon is bound");
  rules->add_option("--mark", o.mark, "Conntrack mark of admitted data connections (0xf7a1)")
      ->type_name("MARK");
  rules->add_option("--table", o.table, "Name of the pinhole table (ftpalg_q<first queue>)")
      ->type_name("NAME");
  rules->add_option("--pinhole-timeout", o.pinholeTimeoutS, "Pinhole lifetime in seconds (30)")
      ->type_name("SECONDS");
  rules->add_option("--queue-form", o.queueForm, "auto (probe the kernel), nft or iptables")
      ->type_name("FORM");
  rules->add_option("--family", o.family, "Queueing rules for inet (both), ip or ip6")
      ->type_name("FAMILY");
  rules
      ->add_option("--session-mark", o.sessionMark,
                   "Conntrack mark of rewritten control connections, queued without bypass "
                   "(0xf7a2; 0: none)")
      ->type_name("MARK");
  rules->add_flag("--queue-everything", o.queueEverything,
                  "Queue pure ACKs too (default: those of sessions without the mark pass)");
  rules->add_flag("--spread-connections", o.spreadConnections,
                  "With several queues, spread connections by a symmetric 5-tuple hash "
                  "(default: the kernel's balance over the address pair)");
}

constexpr const char* kCheckFooter =
    R"(Inspects the running gateway (nf_tables ruleset including iptables-nft rules, the kernel's
queues, conntrack, ftpalgd's pinhole table, the daemon and its recent events), samples counters
twice --interval seconds apart, and prints each finding in plain words with its fix. Exit
status: 0 no error (warnings may be printed), 1 FTP through this gateway cannot work, 2 the
check itself failed (arguments; reading the ruleset needs CAP_NET_ADMIN).)";

void addCheck(CLI::App& app, ftpalg::cli::CheckOptions& o) {
  CLI::App* check = app.add_subcommand("check", "Diagnose why FTP through this gateway fails");
  check->footer(kCheckFooter);
  check->add_flag("--json", o.json, "Findings as one JSON object");
  check->add_option("--interval", o.intervalS, "Seconds between the two samples (2; 0: one)")
      ->type_name("SECONDS");
  check->add_option("--ports", o.ports, "More FTP control ports besides 21, e.g. 2121,2122")
      ->type_name("PORT[,PORT...]");
  check
      ->add_option("--mark", o.mark,
                   "Conntrack mark of admitted data connections (from the "
                   "pinhole table, else 0xf7a1)")
      ->type_name("MARK");
  check->add_option("--table", o.table, "Name of the pinhole table (ftpalg_q<first queue>)")
      ->type_name("NAME");
  check
      ->add_option("--control-socket", o.controlSocket,
                   "ftpalgd's control socket (/run/ftpalg/control.sock)")
      ->type_name("PATH");
  check->add_option("--events", o.events, "ftpalgd's events file (JSON lines)")->type_name("FILE");
  check
      ->add_option("--config", o.config,
                   "ftpalgd's configuration file: its events, control_socket and table keys")
      ->type_name("FILE");
}

int runCheck(const ftpalg::cli::CheckOptions& options) {
  ftpalg::Status error;
  const int rc = ftpalg::cli::runCheck(options, error);
  if (rc == ftpalg::cli::kExitCheckFailed) return fail(error.message());
  return rc;
}

constexpr const char* kStatusFooter =
    R"(Asks ftpalgd's control socket (root, the daemon's user or a member of its control_group).
One line per live session, like conntrack -L: flow, state, login, kernel mode, NAT binding
(client inside->outside / server inside->outside), bytes, rewrites, sequence offsets and live
splices (client->server/server->client), idle time and timeout, outstanding announcements with
their pinhole or expectation and its timeout; then each queue's load and counters. FLOW is
CLIENT-SERVER as the events write it, e.g. 198.18.0.2:40000-198.19.0.2:21. Exit status 1 when a
queue did not answer in time (its thread is stuck), 2 on errors.)";

void addStatus(CLI::App& app, ftpalg::cli::StatusOptions& o) {
  CLI::App* status = app.add_subcommand("status", "Show ftpalgd's live sessions and counters");
  status->footer(kStatusFooter);
  status->add_option("--socket", o.socket, "ftpalgd's control socket (/run/ftpalg/control.sock)")
      ->type_name("PATH");
  status->add_flag("--json", o.json, "The daemon's JSON document (one per line with --watch)");
  status->add_option("--session", o.session, "One session and its recent events")
      ->type_name("FLOW");
  status->add_option("--watch", o.watchS, "Refresh every SECONDS (default 2)")
      ->type_name("SECONDS")
      ->expected(0, 1)
      ->default_str("2")
      ->check(CLI::Range(1, 3600));
  status->add_option("--count", o.count, "With --watch: stop after N refreshes")->type_name("N");
}

int runRules(const ftpalg::cli::RulesOptions& options) {
  ftpalg::cli::RulesRequest request;
  if (ftpalg::Status s = ftpalg::cli::makeRulesRequest(options, request); !s.ok()) {
    return fail(s.message());
  }
  std::fputs(ftpalg::cli::rulesText(request).c_str(), stdout);
  return 0;
}

int runReplay(const ftpalg::cli::ReplayOptions& options) {
  ftpalg::cli::ReplayReport report;
  if (ftpalg::Status s = ftpalg::cli::runReplay(options, report); !s.ok()) {
    return fail(s.message());
  }
  if (!options.quiet) {
    std::fputs(ftpalg::report::formatSummary(report).c_str(), stderr);
  } else {
    std::fputs(ftpalg::report::formatCaptureWarning(report).c_str(), stderr);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("FTP application-level gateway", "ftpalg");
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(1);
  ftpalg::cli::ReplayOptions replayOptions;
  addReplay(app, replayOptions);
  ftpalg::cli::RulesOptions rulesOptions;
  addRules(app, rulesOptions);
  ftpalg::cli::CheckOptions checkOptions;
  addCheck(app, checkOptions);
  ftpalg::cli::StatusOptions statusOptions;
  addStatus(app, statusOptions);
  ftpalg::cli::TakeoverOptions takeoverOptions;
  CLI::App* takeover = app.add_subcommand(
      "takeover", "Make ftpalgd re-create pinholes recorded in conntrack labels (failover)");
  takeover->add_option("--socket", takeoverOptions.socket, "ftpalgd's control socket")
      ->type_name("PATH");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    return fail(e.what());
  }
  if (app.got_subcommand("replay")) return runReplay(replayOptions);
  if (app.got_subcommand("rules")) return runRules(rulesOptions);
  if (app.got_subcommand("check")) return runCheck(checkOptions);
  if (app.got_subcommand("takeover")) return ftpalg::cli::runTakeover(takeoverOptions);
  if (app.got_subcommand("status")) {
    if (app.get_subcommand("status")->count("--watch") > 0 && statusOptions.watchS == 0) {
      statusOptions.watchS = 2;
    }
    return ftpalg::cli::runStatus(statusOptions);
  }
  return fail("no subcommand");
}
