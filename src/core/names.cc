// Stable names of the engine's enums, as logged, counted and written in events. Each table is
// checked against its enum at compile time (ftpalg/name_table.h).
#include <cstddef>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "ftpalg/name_table.h"

namespace ftpalg::core {

namespace {

constexpr NameRow<EventKind> kEventKinds[] = {
    {EventKind::Port, "port"},        {EventKind::Eprt, "eprt"},
    {EventKind::Lprt, "lprt"},        {EventKind::Pasv227, "pasv227"},
    {EventKind::Epsv229, "epsv229"},  {EventKind::Lpsv228, "lpsv228"},
    {EventKind::AuthTls, "auth_tls"}, {EventKind::EpsvAll, "epsv_all"},
    {EventKind::Evasion, "evasion"},  {EventKind::Malformed, "malformed"},
    {EventKind::Desync, "desync"},    {EventKind::Withdraw, "withdraw"},
};
static_assert(completeNameTable(kEventKinds, static_cast<size_t>(EventKind::Count)));

constexpr NameRow<Verdict> kVerdicts[] = {
    {Verdict::Admit, "admit"},
    {Verdict::Refuse, "refuse"},
    {Verdict::Pass, "pass"},
};
static_assert(completeNameTable(kVerdicts, static_cast<size_t>(Verdict::Pass) + 1));

constexpr NameRow<Reason> kReasons[] = {
    {Reason::Ok, "ok"},
    {Reason::Rewritten, "rewritten"},
    {Reason::BounceAddress, "bounce_address"},
    {Reason::LowPort, "low_port"},
    {Reason::WrongDirection, "wrong_direction"},
    {Reason::Unsolicited, "unsolicited"},
    {Reason::FamilyMismatch, "family_mismatch"},
    {Reason::TooManyExpectations, "too_many_expectations"},
    {Reason::EpsvAllActive, "epsv_all_active"},
    {Reason::PolicyDisabled, "policy_disabled"},
    {Reason::ParseFailed, "parse_failed"},
    {Reason::TlsOpaque, "tls_opaque"},
    {Reason::RetransmitMismatch, "retransmit_mismatch"},
    {Reason::LineTooLong, "line_too_long"},
    {Reason::PartiallyReleased, "partially_released"},
    {Reason::SessionTableFull, "session_table_full"},
    {Reason::RewriteTableFull, "rewrite_table_full"},
    {Reason::UnwritableAddress, "unwritable_address"},
    {Reason::SpecialAddress, "special_address"},
    {Reason::DelimiterInAddress, "delimiter_in_address"},
    {Reason::NoBuffer, "no_buffer"},
    {Reason::NotFtp, "not_ftp"},
    {Reason::BeforeLogin, "before_login"},
    {Reason::ServerRefused, "server_refused"},
    {Reason::SessionEnded, "session_ended"},
    {Reason::NoFreePort, "no_free_port"},
    {Reason::DataKeysFull, "data_keys_full"},
    {Reason::PasvAddressMismatch, "pasv_address_mismatch"},
    {Reason::RewrittenToPeer, "rewritten_to_peer"},
};
static_assert(completeNameTable(kReasons, static_cast<size_t>(Reason::Count)));

constexpr NameRow<Counter> kCounters[] = {
    {Counter::Segments, "segments"},
    {Counter::Sessions, "sessions"},
    {Counter::SessionsEnded, "sessions_ended"},
    {Counter::Lines, "lines"},
    {Counter::Announcements, "announcements"},
    {Counter::Admitted, "admitted"},
    {Counter::Refused, "refused"},
    {Counter::Rewrites, "rewrites"},
    {Counter::Retransmissions, "retransmissions"},
    {Counter::RetransmitMismatch, "retransmit_mismatch"},
    {Counter::OutOfOrderDropped, "out_of_order_dropped"},
    {Counter::HeldSegments, "held_segments"},
    {Counter::Coalesced, "coalesced"},
    {Counter::BufferOverflow, "buffer_overflow"},
    {Counter::LineTooLong, "line_too_long"},
    {Counter::BadLine, "bad_line"},
    {Counter::MidstreamPickup, "midstream_pickup"},
    {Counter::TlsSessions, "tls_sessions"},
    {Counter::SessionTableFull, "session_table_full"},
    {Counter::SeqAdjFull, "seqadj_full"},
    {Counter::RewriteExceedsMss, "rewrite_exceeds_mss"},
    {Counter::NonControl, "non_control"},
    {Counter::Expired, "expired"},
    {Counter::PoolExhausted, "pool_exhausted"},
    {Counter::InFlightEvicted, "in_flight_evicted"},
    {Counter::PairingLost, "pairing_lost"},
    {Counter::OldDuplicate, "old_duplicate"},
    {Counter::HeldDroppedAtEnd, "held_dropped_at_end"},
    {Counter::EventsSuppressed, "events_suppressed"},
    {Counter::GapResync, "gap_resync"},
    {Counter::BufferReclaimed, "buffer_reclaimed"},
    {Counter::SessionEvicted, "session_evicted"},
    {Counter::HalfOpenExpired, "half_open_expired"},
    {Counter::HoldTimeout, "hold_timeout"},
    {Counter::HoldLimit, "hold_limit"},
    {Counter::RstOutOfWindow, "rst_out_of_window"},
    {Counter::SynIgnored, "syn_ignored"},
    {Counter::InvalidTcpFlags, "invalid_tcp_flags"},
    {Counter::OutOfWindow, "out_of_window"},
    {Counter::AckedRetransmitDropped, "acked_retransmit_dropped"},
    {Counter::AckedRetransmitTrimmed, "acked_retransmit_trimmed"},
    {Counter::SessionsAdopted, "sessions_adopted"},
    {Counter::Withdrawn, "withdrawn"},
    {Counter::PortReassigned, "port_reassigned"},
    {Counter::NoFreePort, "no_free_port"},
    {Counter::DataKeysFull, "data_keys_full"},
    {Counter::PasvAddressMismatch, "pasv_address_mismatch"},
    {Counter::RstChallenged, "rst_challenged"},
    {Counter::RstPendingEnded, "rst_pending_ended"},
};
static_assert(completeNameTable(kCounters, static_cast<size_t>(Counter::Count)));

}  // namespace

std::string_view eventKindName(EventKind k) { return nameOf(kEventKinds, k); }
std::string_view verdictName(Verdict v) { return nameOf(kVerdicts, v); }
std::string_view reasonName(Reason r) { return nameOf(kReasons, r); }
std::string_view counterName(Counter c) { return nameOf(kCounters, c); }

}  // namespace ftpalg::core
