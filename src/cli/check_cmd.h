// `ftpalg check`: its options and the run (read the gateway twice, diagnose, print). The pieces
// are check_read.h (facts), check_diagnose.h (findings) and check_findings.h (output).
#pragma once

#include <string>

#include "ftpalg/status.h"

namespace ftpalg::cli {

// What the user asked `ftpalg check` for.
struct CheckOptions {
  bool json = false;
  double intervalS = 2.0;  // between the two samples; 0: one sample only
  std::string ports;       // control ports besides 21
  std::string mark;        // data connection mark; empty: from the pinhole table
  std::string table;       // pinhole table; empty: ftpalg_q<first queue>
  std::string controlSocket = "/run/ftpalg/control.sock";
  std::string events;  // the daemon's events file; empty: from --config, else none
  std::string config;  // ftpalgd's configuration file (events, control_socket, table keys)
};

// Runs the check and prints its findings to stdout; returns the exit status (check_findings.h:
// 0 no error, 1 FTP cannot work, 2 the check itself failed, with `error` set).
int runCheck(const CheckOptions& options, Status& error);

}  // namespace ftpalg::cli
