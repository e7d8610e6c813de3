// The failure policy of the packet path: every way serving a queued packet can fail, the
// verdict the packet concerned gets, the counter, the log level and rate-limit site, and why.
// Reviewed in one place; every failure is reported through WorkerLog::fail(), which reads this
// table. A new failure is one enum value plus one row (a test checks every value has exactly
// one row, in enum order).
//
// Fail-open / fail-closed as configured (`fail-open` in ftpalgd.toml) is the kernel's decision
// for packets that cannot be queued at all (NFQA_CFG_F_FAIL_OPEN, --queue-bypass); it does not
// change a row here: a packet the daemon has in hand and cannot serve safely is decided below.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/config.h"
#include "daemon/worker_stats.h"

namespace ftpalg::daemon {

// Every way the packet path can fail.
enum class Failure : uint8_t {
  ParseError,               // not an IP/TCP packet the engine can read
  NoConntrack,              // expectation mode: no usable conntrack entry with the packet
  NatLookupFailed,          // pinhole mode: conntrack could not say whether the session is NATed
  AdmitFailed,              // pinhole or expectation for an announcement not installed
  AdmitRetryFailed,         // a failed admit retried on a retransmission failed again
  LiberalFailed,            // pinhole mode: liberal TCP tracking not set on a rewritten session
  PoolFull,                 // a held packet could not be copied
  RebuildFailed,            // a rewritten packet could not be built
  UnknownHandle,            // the engine released a packet the worker does not have
  MissingVerdict,           // the engine gave the current packet no verdict
  VerdictFailed,            // a verdict could not be appended to the socket's batch
  FlushFailed,              // the batch of verdicts could not be sent
  ReceiveFailed,            // the queue socket could not be read
  ExpectationRemoveFailed,  // expectation mode: an ended session's expectation not deleted
  ShutdownHeld,             // the daemon stops with packets held
  StateWriteFailed,         // a session snapshot could not be written or removed (state_dir)
  WithdrawFailed,           // a withdrawn announcement's pinhole or expectation not deleted
  RestoreFailed,            // pinhole mode: a liberal entry not put back after an ignored RST
  ShiftMarkFailed,          // pinhole mode: a shifted session not marked for queue-everything
  LabelWriteFailed,         // conntrack_state: a session's record not written into its labels
  Count
};

// What the packet concerned gets.
enum class FailVerdict : uint8_t {
  Accept,     // forwarded unchanged
  Drop,       // NF_DROP (the sender retransmits)
  Unchanged,  // no verdict of its own: the packet gets what the engine decided, or already has one
};

// Which rate limiter (one per site and thread) a log line goes through; None: not logged.
enum class LogSite : uint8_t { Parse, Admit, Refuse, Anomaly, Error, Remove, Nat, None, Count };

// One row of the policy.
struct FailureRule {
  Failure failure;
  FailVerdict verdict;
  LogLevel level;
  LogSite site;
  std::atomic<uint64_t> WorkerStats::*counter;  // nullptr: not counted by the worker
  std::string_view counterName;
  std::string_view why;
};

// Every way the packet path can fail, and what the packet gets. Reviewed in one place.
inline constexpr FailureRule kFailurePolicy[] = {
    {Failure::ParseError, FailVerdict::Accept, LogLevel::Debug, LogSite::Parse,
     &WorkerStats::parseErrors, "parseErrors",
     "the rules queue only TCP to/from control ports and conntrack has reassembled fragments: "
     "what the engine cannot read is no FTP control traffic, and forwarding it opens nothing"},
    {Failure::NoConntrack, FailVerdict::Accept, LogLevel::Warning, LogSite::Parse,
     &WorkerStats::noConntrack, "noConntrack",
     "without its conntrack entry nothing can be expected: the packet passes uninspected and "
     "opens nothing"},
    // Chosen: the session proceeds as one without NAT, exactly as before a failed lookup could
    // be told from "no NAT" (the engine asks once per session). It is still inspected and
    // policed (bounce, low ports); only its announcements are not rewritten. Dropping instead
    // would stop every FTP session while conntrack cannot be read.
    {Failure::NatLookupFailed, FailVerdict::Unchanged, LogLevel::Warning, LogSite::Nat,
     &WorkerStats::natLookupFailures, "natLookupFailures",
     "the engine serves the session as one without NAT; counted so that a NATed session whose "
     "announcements are not rewritten can be explained"},
    {Failure::AdmitFailed, FailVerdict::Drop, LogLevel::Error, LogSite::Error,
     &WorkerStats::pinholeFailures, "pinholeFailures",
     "no pinhole, no announcement: the client would dial a closed port; the sender "
     "retransmits and each retransmission retries the admit"},
    {Failure::AdmitRetryFailed, FailVerdict::Drop, LogLevel::Error, LogSite::Error,
     &WorkerStats::pinholeFailures, "pinholeFailures",
     "still no pinhole: what the retransmission releases stays dropped"},
    {Failure::LiberalFailed, FailVerdict::Unchanged, LogLevel::Error, LogSite::Error,
     &WorkerStats::liberalFailures, "liberalFailures",
     "the rewrite leaves anyway; the next rewrite of the session tries the mark again"},
    {Failure::PoolFull, FailVerdict::Drop, LogLevel::Warning, LogSite::Anomaly,
     &WorkerStats::poolFull, "poolFull",
     "fail closed: without a copy the packet could never be released rewritten"},
    {Failure::RebuildFailed, FailVerdict::Drop, LogLevel::Warning, LogSite::Anomaly,
     &WorkerStats::rebuildFailures, "rebuildFailures",
     "the original bytes would announce the unrewritten address"},
    {Failure::UnknownHandle, FailVerdict::Unchanged, LogLevel::Warning, LogSite::Anomaly,
     &WorkerStats::unknownHandles, "unknownHandles",
     "a packet the pool could not keep was dropped when it was held"},
    {Failure::MissingVerdict, FailVerdict::Accept, LogLevel::Warning, LogSite::Anomaly,
     &WorkerStats::unknownHandles, "unknownHandles",
     "the engine gives every segment a verdict; should it not, the packet must not stay queued "
     "forever"},
    {Failure::VerdictFailed, FailVerdict::Unchanged, LogLevel::Error, LogSite::Error, nullptr, "",
     "the kernel keeps the packet until the queue's own timeout or a later verdict"},
    {Failure::FlushFailed, FailVerdict::Unchanged, LogLevel::Error, LogSite::Error, nullptr, "",
     "the batch's packets stay queued in the kernel; the socket counts its send errors"},
    {Failure::ReceiveFailed, FailVerdict::Unchanged, LogLevel::Error, LogSite::Error, nullptr, "",
     "the next receive tries again; an overrun is the kernel's fail-open/fail-closed choice"},
    {Failure::ExpectationRemoveFailed, FailVerdict::Unchanged, LogLevel::Error, LogSite::Remove,
     &WorkerStats::expectationRemoveFailures, "expectationRemoveFailures",
     "the expectation stays until the helper policy's timeout"},
    {Failure::ShutdownHeld, FailVerdict::Drop, LogLevel::Debug, LogSite::None, nullptr, "",
     "fail closed: a held packet carries part of a line never inspected in full; its sender "
     "retransmits to whatever serves the queue next (or the rule's bypass decision)"},
    {Failure::StateWriteFailed, FailVerdict::Unchanged, LogLevel::Error, LogSite::Error, nullptr,
     "",
     "the packet leaves anyway: the session works until a restart, whose successor then picks "
     "it up mid-stream without its offsets"},
    {Failure::WithdrawFailed, FailVerdict::Unchanged, LogLevel::Error, LogSite::Remove,
     &WorkerStats::withdrawFailures, "withdrawFailures",
     "the elements stay until their timeout (single use still applies); the packet that "
     "ended the announcement passes as the engine decided"},
    {Failure::RestoreFailed, FailVerdict::Unchanged, LogLevel::Debug, LogSite::Anomaly,
     &WorkerStats::restoreFailures, "restoreFailures",
     "the RST was forwarded as the engine decided; conntrack drops the entry after its CLOSE "
     "timeout and the session may stall, as without the restore"},
    // Chosen: not a drop. A session a successor adopted (daemon restart) fails here (its
    // conntrack entry is not found under the tuple the resolver rebuilds: LiberalFailed, logged
    // and counted there) although its predecessor marked it; dropping would stall every adopted
    // shifted session. Unmarked, the peer's pure ACKs of shifted bytes pass unadjusted and the
    // sender ignores them (they acknowledge bytes it never sent); data packets' acknowledgements
    // are adjusted, so a long reply may wait for retransmissions.
    {Failure::ShiftMarkFailed, FailVerdict::Unchanged, LogLevel::Debug, LogSite::None, nullptr, "",
     "the packet leaves as the engine decided; the next length-changing rewrite tries again"},
    // Chosen: not a drop. The labels serve only a successor or a backup; this gateway's
    // session is unaffected. The record is written again at the session's next change.
    {Failure::LabelWriteFailed, FailVerdict::Unchanged, LogLevel::Warning, LogSite::Error,
     &WorkerStats::labelWriteFailures, "labelWriteFailures",
     "the packet leaves as the engine decided; a takeover before the next successful write "
     "finds the previous record (or none)"},
};

static_assert(std::size(kFailurePolicy) == static_cast<size_t>(Failure::Count),
              "one row per Failure");

// The row of `f` (rows are in enum order; checked by a unit test and below).
constexpr const FailureRule& failureRule(Failure f) {
  return kFailurePolicy[static_cast<size_t>(f)];
}

// Checks at compile time that row i describes Failure i.
constexpr bool failurePolicyInOrder() {
  for (size_t i = 0; i < std::size(kFailurePolicy); ++i) {
    if (static_cast<size_t>(kFailurePolicy[i].failure) != i) return false;
  }
  return true;
}
static_assert(failurePolicyInOrder(), "kFailurePolicy rows in Failure order");

}  // namespace ftpalg::daemon
