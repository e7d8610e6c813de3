// The journal entry of an engine event (systemd.journal-fields(7)): MESSAGE (the log line),
// MESSAGE_ID (one fixed 128-bit id per event class, listed in docs/daemon.md like a catalog),
// PRIORITY by class, and FTPALG_* fields that `journalctl FTPALG_VERDICT=refuse` selects on.
// Pure functions: the journal sink sends what they build.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"

namespace ftpalg::daemon {

// Event classes, each with its own MESSAGE_ID.
enum class EventClass : uint8_t {
  Admit,      // admitted as announced
  Rewrite,    // admitted and rewritten (NAT, another public port, rewrite_to_peer)
  Refuse,     // refused by policy or for a malformed line
  Withdraw,   // an admitted announcement taken back
  Limit,      // refused for want of room, or events suppressed over their budget
  Anomaly,    // evasion, malformed or desynchronised stream (verdict pass)
  Lifecycle,  // TLS, EPSV ALL (a session's state), the daemon's journal output starting/ending
  Count
};
std::string_view eventClassName(EventClass c);
// "9c2f...": 32 lowercase hex digits, as MESSAGE_ID= takes it.
std::string_view messageId(EventClass c);
// syslog priority: 4 (warning) for refusals, limits and anomalies, 6 (info) otherwise.
int priorityOf(EventClass c);

EventClass classify(const core::Event& ev);

// The log line of an event ("refuse pasv227 172.17.0.2:40001 (pasv_address_mismatch) flow
// ..."); `admitWord` names the admission ("pinhole", "expect").
std::string eventMessage(const core::Event& ev, std::string_view admitWord);

// Every field of `ev`'s entry, "NAME=value", MESSAGE first.
std::vector<std::string> journalFields(const core::Event& ev, std::string_view admitWord,
                                       uint16_t queue);
// The entry summarising events suppressed over their budget (class Limit).
std::vector<std::string> suppressedFields(uint64_t bySession, uint64_t byGlobal, uint16_t queue);
// An entry of class `c` about the daemon itself (no FTPALG_FLOW): the journal output starting
// and ending (Lifecycle), journal entries dropped (Limit).
std::vector<std::string> daemonFields(EventClass c, std::string_view message);

}  // namespace ftpalg::daemon
