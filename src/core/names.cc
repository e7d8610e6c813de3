// Stable names of the engine's enums, as logged, counted and written in events.
#include <array>
#include <cstddef>
#include <string_view>

#include "ftpalg/core/engine.h"

namespace ftpalg::core {

namespace {
template <typename E, size_t N>
std::string_view lookup(const std::array<std::string_view, N>& names, E e) {
  const auto i = static_cast<size_t>(e);
  return i < N ? names[i] : std::string_view("unknown");
}
}  // namespace

std::string_view eventKindName(EventKind k) {
  static constexpr std::array<std::string_view, static_cast<size_t>(EventKind::Count)> kNames = {
      "port", "eprt", "lprt", "pasv227", "epsv229", "lpsv228", "auth_tls", "epsv_all",
      "evasion", "malformed", "desync"};
  return lookup(kNames, k);
}

std::string_view verdictName(Verdict v) {
  static constexpr std::array<std::string_view, 3> kNames = {"admit", "refuse", "pass"};
  return lookup(kNames, v);
}

std::string_view reasonName(Reason r) {
  static constexpr std::array<std::string_view, static_cast<size_t>(Reason::Count)> kNames = {
      "ok",
      "rewritten",
      "bounce_address",
      "low_port",
      "wrong_direction",
      "unsolicited",
      "family_mismatch",
      "too_many_expectations",
      "epsv_all_active",
      "policy_disabled",
      "parse_failed",
      "tls_opaque",
      "retransmit_mismatch",
      "line_too_long",
      "partially_released",
      "session_table_full"};
  return lookup(kNames, r);
}

std::string_view counterName(Counter c) {
  static constexpr std::array<std::string_view, static_cast<size_t>(Counter::Count)> kNames = {
      "segments",           "sessions",          "sessions_ended",      "lines",
      "announcements",      "admitted",          "refused",             "rewrites",
      "retransmissions",    "retransmit_mismatch", "out_of_order_dropped", "held_segments",
      "coalesced",          "buffer_overflow",   "line_too_long",       "bad_line",
      "midstream_pickup",   "tls_sessions",      "session_table_full",  "seqadj_full",
      "rewrite_exceeds_mss", "non_control",      "expired",             "pool_exhausted",
      "in_flight_evicted",  "pairing_lost",      "old_duplicate",       "held_dropped_at_end",
      "events_suppressed",  "gap_resync"};
  return lookup(kNames, c);
}

}  // namespace ftpalg::core
