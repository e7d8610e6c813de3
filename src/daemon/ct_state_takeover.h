// conntrack_state = "labels": re-creating the pinholes of announcements found in conntrack
// labels (docs/daemon.md, "Conntrack state labels"). A gateway that takes over control
// connections (the backup after a failover, once conntrackd has committed the master's entries
// to its table; or a restarted daemon without state_dir) dumps every entry carrying an
// ftpalg record and installs, for each outstanding announcement whose pinhole has time left,
// the pinhole the master had (same elements, the remaining time as timeout), so the data SYN,
// possibly the first packet after the failover, is admitted. Runs at start and on the control
// socket's `takeover` request, never on a queue thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "daemon/config.h"
#include "daemon/event_sink.h"
#include "ftpalg/kernel/ct_labels.h"
#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// What one takeover did.
struct TakeoverResult {
  size_t entries = 0;   // entries with a label bit of the record's range
  size_t refused = 0;   // of them, labels that were no record (another version, bad ports)
  size_t shifted = 0;   // records with nonzero offsets (their sessions adopt them mid-stream)
  size_t pinholes = 0;  // pinholes installed
  size_t expired = 0;   // announcements whose pinhole had no time left
  size_t failed = 0;    // pinholes the kernel refused
  size_t skipped = 0;   // announcements beyond kMaxPinholes
  uint64_t elapsedUs = 0;
  Status status;  // the dump's error, if it failed
};

// The takeover of one daemon (pinhole mode). Thread-safe: one run at a time.
class CtStateTakeover {
 public:
  static constexpr size_t kMaxPinholes = 4096;  // per run

  // `pinhole`: the table's configuration; `maxTimeoutS`: the longest timeout given (the
  // configured pinhole_timeout: a record never extends a pinhole); `events` may be null.
  CtStateTakeover(kernel::PinholeConfig pinhole, unsigned firstBit, EventSink* events);
  // Dumps, installs, logs one line and writes one event per pinhole with `reason` ("start",
  // "control").
  TakeoverResult run(std::string_view reason);

 private:
  kernel::PinholeConfig pinhole_;
  unsigned firstBit_;
  EventSink* events_;
  std::mutex mu_;
  kernel::CtLabels labels_;
  kernel::PinholeTable table_;
};

// With conntrack_state = "labels": a takeover for table `pinhole`, run once ("start") and
// registered for the control socket; null otherwise.
std::unique_ptr<CtStateTakeover> startTakeover(const DaemonConfig& cfg,
                                               const kernel::PinholeConfig& pinhole,
                                               EventSink& events);

// {"schema":1,"takeover":{"entries":N,...}} for the control socket.
std::string takeoverJson(const TakeoverResult& r);

// The original tuples of the control connections the last takeovers found (client = orig
// source, server = reply source), for ConntrackResolver: a session met mid-stream is DNATed
// more often than not, and without NFQA_CT its entry is otherwise found only by a rationed
// table scan. Thread-safe; a fixed table (a collision forgets the older entry).
void rememberTakeoverTuple(const core::FlowKey& flow, const kernel::CtTuple& orig);
bool takeoverTuple(const core::FlowKey& flow, kernel::CtTuple& orig);

// The daemon's takeover for the control socket (null: none, e.g. expectation mode).
void registerTakeover(CtStateTakeover* t);
CtStateTakeover* registeredTakeover();
// The control socket's answer to "takeover": the registered takeover's run("control") as
// takeoverJson, or the error "unavailable" without one (conntrack_state off, expectation mode).
std::string takeoverAnswer();

}  // namespace ftpalg::daemon
