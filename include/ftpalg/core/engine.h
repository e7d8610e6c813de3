// The FTP ALG engine: follows every FTP control connection, finds each announced data endpoint,
// rewrites it for NAT, keeps TCP sequence numbers consistent and decides what to admit.
//
// Sans-I/O: the engine performs no syscalls and has no clock. An adapter (the NFQUEUE daemon or
// the pcap replay tool) parses each packet with parsePacket(), calls onSegment() with the time,
// and applies the Actions it gets back: packet verdicts (forward as-is, forward rewritten, hold,
// drop) and events (announcements with their verdict and the expectation to install).
//
// Memory: every buffer is allocated once, in the constructor, sized by EngineConfig. Views in
// Actions point into the engine and stay valid until the next call of onSegment()/expire().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "ftpalg/core/ftp_parser.h"
#include "ftpalg/core/packet.h"
#include "ftpalg/core/policy_config.h"
#include "ftpalg/core/snapshot_errors.h"
#include "ftpalg/core/types.h"

namespace ftpalg::core {

// The addresses of a control connection on each side of the NAT. "Inside" is the client's
// wire, "outside" the server's wire. Without NAT each pair is equal.
// A PORT/EPRT announcing clientInside is rewritten to clientOutside for the server; a 227
// announcing serverOutside is rewritten to serverInside for the client.
struct NatBinding {
  IpAddr clientInside;   // client address on the client's wire (private behind SNAT)
  IpAddr clientOutside;  // client address as the server sees it (SNAT public address)
  IpAddr serverInside;   // server address as the client dials it (DNAT public address)
  IpAddr serverOutside;  // server address on the server's wire (private behind DNAT)
  // Bytes earlier rewrites already added to each direction's stream (index: Dir, C2S then
  // S2C), for a session the engine first sees mid-stream: the kernel's seqadj of a connection
  // a predecessor rewrote (expectation mode after a restart). The engine starts the
  // direction's splice delta there, so the peer's acknowledgements map back to original bytes.
  std::array<int32_t, 2> priorDelta{};
};

// Identity of a control connection as the engine sees it (client side of the wire).
struct FlowKey {
  Endpoint client;
  Endpoint server;
  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

// Adapter callback: the NAT binding of a new control connection (conntrack in the daemon,
// --snat/--dnat maps in replay). Called once per session, from onSegment(), with the first
// segment after the client's SYN (an inline gateway sees that SYN before NAT is decided).
class NatResolver {
 public:
  virtual ~NatResolver() = default;
  // Fills `out` for the connection `flow` (addresses as seen at the engine). Return false when
  // there is no NAT: the engine then uses the flow's own addresses on both sides.
  virtual bool resolve(const FlowKey& flow, NatBinding& out) = 0;
};

// What the engine understood in one line. Event kinds of the product's JSON schema.
enum class EventKind : uint8_t {
  Port,
  Eprt,
  Lprt,
  Pasv227,
  Epsv229,
  Lpsv228,    // announcements
  AuthTls,    // 234 after AUTH: channel opaque from here
  EpsvAll,    // client said EPSV ALL: PORT/EPRT refused from here (RFC 2428)
  Evasion,    // retransmission with different bytes, or similar
  Malformed,  // an announcement line that failed to parse
  Desync,     // lost stream synchronisation (gap resync, buffer overflow)
  // An admitted announcement taken back: the server refused its command (reason
  // server_refused) or its session ended (session_ended). `expect` is what to remove.
  Withdraw,
  Count
};
std::string_view eventKindName(EventKind k);  // "port", "eprt", ..., "pasv227", ...

enum class Verdict : uint8_t { Admit, Refuse, Pass };
std::string_view verdictName(Verdict v);  // "admit", "refuse", "pass"

// Why a verdict was given. Closed set; names are stable (logged and counted).
enum class Reason : uint8_t {
  Ok = 0,               // admitted as announced
  Rewritten,            // admitted and rewritten for NAT
  BounceAddress,        // announced address is not the announcing peer's own
  LowPort,              // data port below 1024
  WrongDirection,       // PORT/EPRT from the server, 227/229 from the client
  Unsolicited,          // 227/229/228 without a pending PASV/EPSV/LPSV
  FamilyMismatch,       // EPRT/229 family differs from the control connection
  TooManyExpectations,  // per-session limit on outstanding expectations
  EpsvAllActive,        // PORT/EPRT after EPSV ALL
  PolicyDisabled,       // wire form disabled by policy (LPRT/LPSV by default)
  ParseFailed,          // malformed announcement (see ParseError)
  TlsOpaque,            // AUTH TLS accepted: nothing more can be inspected
  RetransmitMismatch,   // overlapping retransmission with different content
  LineTooLong,          // line longer than the buffer
  PartiallyReleased,    // part of the address text had already been forwarded (never expected)
  SessionTableFull,     // no room for a new session
  RewriteTableFull,     // no room to record one more splice in this direction's rewrite map
  UnwritableAddress,    // the rewritten endpoint cannot be written in the announcement's form
  SpecialAddress,       // loopback, unspecified, broadcast, multicast, link-local or the gateway's
                        // own address, announced by a peer it does not belong to
  DelimiterInAddress,   // EPRT: the rewritten address text contains the line's own delimiter
  NoBuffer,             // the direction had no buffer to record the splice in
  NotFtp,               // requireLogin: the server has not greeted with 220 (not an FTP stream)
  BeforeLogin,          // requireLogin: no successful login (230) seen in the session yet
  ServerRefused,        // withdraw: the server answered the announcing command with non-2xx
  SessionEnded,         // withdraw: the control connection ended (FIN, RST, expiry, eviction)
  NoFreePort,           // the data key is taken and none of the next 127 public ports is free
  DataKeysFull,         // no room to record one more outstanding announcement
  PasvAddressMismatch,  // 227/228 naming an address not its server's (pasv_address_mismatch)
  RewrittenToPeer,      // the same, rewritten to the server's own address (rewrite_to_peer)
  Count
};
std::string_view reasonName(Reason r);

// The connection the kernel side must admit. src.port == 0 means any source port.
struct Expectation {
  Endpoint src;    // data connection source as it reaches the gateway
  Endpoint dst;    // destination as it reaches the gateway (the announced/rewritten one)
  Endpoint natTo;  // where the gateway must send it (equals dst without NAT)
  bool srcPortAny = true;
  // Source NAT of the data connection: its source address (src.addr) leaves the gateway as
  // srcNatTo, source port kept. Set when the data connection must carry the announcing peer's
  // address on the far side: active mode with the server behind DNAT (the server's private
  // address becomes the public one the client dialled), passive mode with the client behind
  // SNAT (the client's data connection gets the control connection's public address).
  bool hasSrcNat = false;
  IpAddr srcNatTo{};
};

// One event: an announcement (or other notable line) and what the engine decided.
struct Event {
  uint64_t tsNs = 0;
  FlowKey flow;
  Dir dir = Dir::C2S;
  EventKind kind = EventKind::Port;
  Verdict verdict = Verdict::Pass;
  Reason reason = Reason::Ok;
  ParseError parseError = ParseError::None;
  bool hasAnnounced = false;
  Endpoint announced;
  bool hasRewritten = false;
  Endpoint rewritten;
  bool hasExpect = false;
  Expectation expect;
  uint64_t handle = 0;  // packet that carried the line's last byte
};

// One TCP segment handed to the engine: the parsed packet plus the adapter's handle for it.
struct Segment {
  const PacketView* view = nullptr;
  uint64_t handle = 0;  // NFQUEUE packet id, pcap frame number, ...
};

// What to do with one packet.
enum class PacketVerdict : uint8_t {
  Accept,   // forward unchanged
  Rewrite,  // forward with seq/ack/sack/payload below (use rebuildPacket)
  Hold,     // keep it (NFQUEUE: defer the verdict); a later Accept/Rewrite/Drop releases it
  Drop,     // discard
};

struct PacketAction {
  uint64_t handle = 0;
  PacketVerdict verdict = PacketVerdict::Accept;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t sackCount = 0;
  std::array<SackBlock, kMaxSackBlocks> sack{};
  std::span<const uint8_t> payload;  // valid until the next engine call
};

// A session whose state a successor process needs changed (EngineConfig::persistSessions):
// store its snapshot (Engine::saveSession) before any verdict of the same call reaches the
// wire, or erase the stored one (the session ended or no longer needs storing).
struct StateChange {
  FlowKey flow;
  bool erase = false;
};

// Caller-provided output buffer for one engine call.
struct Actions {
  static constexpr size_t kMaxPackets = 96;
  static constexpr size_t kMaxEvents = 128;
  std::array<PacketAction, kMaxPackets> packets;
  size_t packetCount = 0;
  std::array<Event, kMaxEvents> events;
  size_t eventCount = 0;
  static constexpr size_t kMaxStates = 64;
  std::array<StateChange, kMaxStates> states;
  size_t stateCount = 0;
  // A splice recorded by this call changes the length of the segment's stream: from the first
  // packet released with it on, the session's numbers (both directions) are shifted, so every
  // packet of it, pure acknowledgements included, must pass the adapter (docs/design.md,
  // "Packets the engine need not see"). Set before any packet of the call is released.
  bool streamShifted = false;
  void clear() {
    packetCount = 0;
    eventCount = 0;
    stateCount = 0;
    streamShifted = false;
  }
};

// Counted anomalies: things that are not announcements but an admin wants to see counted.
enum class Counter : uint8_t {
  Segments,
  Sessions,
  SessionsEnded,
  Lines,
  Announcements,
  Admitted,
  Refused,
  Rewrites,
  Retransmissions,
  RetransmitMismatch,
  OutOfOrderDropped,
  HeldSegments,
  Coalesced,
  BufferOverflow,
  LineTooLong,
  BadLine,
  MidstreamPickup,
  TlsSessions,
  SessionTableFull,
  SeqAdjFull,
  RewriteExceedsMss,
  NonControl,
  Expired,
  PoolExhausted,
  InFlightEvicted,
  PairingLost,
  OldDuplicate,
  HeldDroppedAtEnd,
  EventsSuppressed,
  GapResync,
  BufferReclaimed,  // a direction buffer taken back from a less valuable session (ended)
  SessionEvicted,   // a session on probation ended to make room for a new one
  HalfOpenExpired,  // a session that never got established ended after halfOpenTimeout
  HoldTimeout,      // a held line released unrewritten after holdTimeout
  HoldLimit,        // a held line released unrewritten: maxHeldPackets reached
  RstOutOfWindow,   // RST whose seq is outside the receiver's window: forwarded, session kept
  SynIgnored,       // SYN with another ISN on an established session: forwarded, session kept
  InvalidTcpFlags,  // SYN with RST or FIN on a known session: forwarded, state kept
  OutOfWindow,      // data far beyond the next expected byte: dropped, no gap resync counted
  AckedRetransmitDropped,  // re-sent acknowledged bytes of a forgotten rewrite: dropped
  AckedRetransmitTrimmed,  // the same with bytes still in flight: sent from history, front cut
  SessionsAdopted,         // sessions installed from a predecessor's snapshot
  Withdrawn,               // withdraw events: refused by the server or session ended
  PortReassigned,          // data key taken: the announcement rewritten to another public port
  NoFreePort,              // data key taken and no free public port: refused
  DataKeysFull,            // outstanding announcement table full: refused
  PasvAddressMismatch,     // 227/228 naming another address than the server's: refused/rewritten
  RstChallenged,           // RST in window but not exact: forwarded, session kept (reset pending)
  RstPendingEnded,         // a pending reset followed by nothing for resetPendingTimeout: ended
  Count
};
std::string_view counterName(Counter c);

// How acknowledgement numbers arriving at the engine relate to the rewritten stream.
enum class AckSpace : uint8_t {
  Rewritten,  // inline gateway: the peer acknowledges what we sent it (map back to original)
  Original,   // replay of a capture taken without a gateway: map forward, clamp to released
};

// Policy and sizing. Defaults are what an admin gets without a config file.
struct EngineConfig {
  size_t maxSessions = 4096;           // session table capacity
  size_t maxBufferedDirections = 512;  // pooled per-direction buffers (partial lines, in flight)
  size_t maxLine = 512;                // longest control line accepted
  size_t maxInFlight = 4096;           // unacknowledged bytes kept per direction for checks
  size_t maxExpectationsPerSession = 8;
  uint64_t expectTimeoutNs = 30'000'000'000;
  uint64_t idleTimeoutNs = 3600'000'000'000;
  uint64_t closeTimeoutNs = 10'000'000'000;  // keep a closed session this long for late ACKs
  // When a direction has more unacknowledged bytes than maxInFlight: false drops the segment
  // (inline gateway: the sender retransmits), true forgets the oldest bytes (replay of
  // captures in which acknowledgements may be missing).
  bool evictWhenFull = false;
  // A segment beyond a gap is dropped (the sender retransmits what is missing). After
  // gapDropLimit such drops in a row, or at once with resyncOnGap (replay of captures that
  // miss segments), the engine skips the gap and resumes at the next line.
  bool resyncOnGap = false;
  uint32_t gapDropLimit = 32;
  bool allowBounce = false;     // PORT/EPRT/227 naming a third host
  bool allowLowPorts = false;   // data ports below 1024
  bool allowLongForms = false;  // LPRT/LPSV
  std::array<uint16_t, 8> controlPorts{21, 0, 0, 0, 0, 0, 0, 0};
  AckSpace ackSpace = AckSpace::Rewritten;
  // The kernel adjusts sequence numbers (conntrack seqadj through NFQUEUE verdicts, expectation
  // mode): the engine only replaces payloads, every packet keeps its own byte range, seq, ack
  // and SACK blocks; held packets are released one by one instead of coalesced.
  bool kernelSeqAdjust = false;

  // Resource limits (docs/design.md, "Resource limits"). A session is established once the
  // engine saw SYN, SYN/ACK and the client's ACK, or payload in both directions; until then it
  // is on probation: it ends after halfOpenTimeout without a packet, it is the first to go when
  // the session table is full, and its direction buffers are taken back when the pool runs out.
  uint64_t halfOpenTimeoutNs = 30'000'000'000;
  // A line held this long without completing is released unrewritten and no longer held; if it
  // completes as an announcement it is refused (partially_released).
  uint64_t holdTimeoutNs = 5'000'000'000;
  size_t maxHeldPerDirection = 32;  // held packets per direction (at most 32)
  // Held packets of all sessions together: past it, the oldest held line of another session is
  // released unrewritten (as on holdTimeout). Keep it a small share of the kernel queue.
  size_t maxHeldPackets = 1024;
  // A new session when the table is full of established sessions: true forwards its packets
  // uninspected (fail open), false drops them (fail closed; the client retries).
  bool failOpenWhenFull = false;
  // The gateway's own addresses: refused as announced data endpoints (reason special_address)
  // unless the announcing peer itself has that address. Family::None entries are unused.
  std::array<IpAddr, 8> gatewayAddresses{};
  // Slipstreaming guard: a stream is FTP only once the server greeted it (220), and an
  // announcement acts only after a successful login (230/232); refused otherwise (not_ftp,
  // before_login). A session first seen mid-stream counts as logged in after a reply only a
  // logged-in user gets (125/150/226/227/228/229/250/257, or 230/232).
  bool requireLogin = false;
  // Report in Actions::states every session a successor process would need (one with a
  // length-changing rewrite, live splices or outstanding announcements) whenever a segment
  // changed it, and when it ends; Engine::saveSession gives its bytes.
  bool persistSessions = false;
  // Withdraw (EventKind::Withdraw) an admitted announcement at once when the server refuses its
  // PORT/EPRT/LPRT (non-2xx final reply) and every outstanding one when its session ends.
  bool withdrawAnnouncements = false;
  // Outstanding admitted announcements remembered (data keys: data source, destination as
  // announced to the far side, port). Two never share a key: a taken key with NAT is moved to
  // the next free public port (like nf_nat_ftp), else refused (data_keys_full when full).
  size_t maxDataKeys = 16384;
  PasvMismatch pasvAddressMismatch = PasvMismatch::Refuse;  // see ftpalg/core/policy_config.h
  PolicyOverrides overrides{};  // per-network allowBounce/allowLowPorts, first match wins
  uint64_t resetPendingTimeoutNs = 10'000'000'000;  // RST in window, not exact: ends if idle
  // conntrack_state: a mid-stream session asks the NatResolver at its first segment (it needs
  // its priorDelta at once); persistSessions also reports a bare ACK settling the splices.
  bool resolvePickedUp = false;
};

class EngineImpl;
class SessionVisitor;
struct SessionView;

// The engine. Not thread-safe: one per queue thread.
class Engine {
 public:
  Engine(const EngineConfig& config, NatResolver* nat);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // True when the segment belongs to a control connection (by port); other traffic should not
  // be given to onSegment (it is accepted and counted as NonControl).
  [[nodiscard]] bool isControl(const PacketView& view) const;

  // Processes one segment at time nowNs; appends what to do to `out` (not cleared).
  void onSegment(const Segment& seg, uint64_t nowNs, Actions& out);

  // Ends sessions idle since before nowNs - idleTimeout (closed ones after closeTimeout) and
  // drops their held packets. Returns true when `out` filled up first: call again.
  bool expire(uint64_t nowNs, Actions& out);

  // Replaces EngineConfig::gatewayAddresses (the adapter keeps them current).
  void setGatewayAddresses(const std::array<IpAddr, 8>& addrs);

  // Counters since construction.
  [[nodiscard]] uint64_t counter(Counter c) const;
  [[nodiscard]] size_t sessionCount() const;
  // Admitted announcements whose data-connection admission (pinhole, NAT element, expectation)
  // may still be live: not used, withdrawn or past its timeout yet.
  [[nodiscard]] size_t outstandingAnnouncements() const;
  // Bytes of engine state per session slot (excluding pooled direction buffers).
  [[nodiscard]] static size_t sessionStateBytes();

  // Writes the snapshot of live session `flow` into `out`: the state as of the bytes already
  // released in each direction (held bytes are left out: the kernel drops them with the
  // process, their senders retransmit). Returns its size, 0 when there is no such session or
  // `out` is too small (kMaxSnapshotBytes always suffices).
  size_t saveSession(const FlowKey& flow, std::span<uint8_t> out) const;
  // Installs a session from a snapshot written by saveSession (of this or an earlier process):
  // its next segments carry on with the stored offsets, splice history and pairing. Strictly
  // validated; refused with a reason, never partially installed.
  SnapshotError adoptSession(std::span<const uint8_t> snapshot, uint64_t nowNs);
  // Takes the policy and the timeouts of `next` (allowBounce, allowLowPorts, allowLongForms,
  // pasvAddressMismatch, overrides, expectTimeoutNs, idle, close, half-open and hold timeouts,
  // gapDropLimit) from now on; sessions and their state stay, and so do the sizes, ports and
  // modes fixed at construction (configuration reload).
  void applyPolicy(const EngineConfig& next);
  // Read-only views of the live sessions as of nowNs (session_view.h), in table order; stops
  // when the visitor returns false. viewSession fills `out` for one flow; false when unknown.
  void viewSessions(SessionVisitor& visitor, uint64_t nowNs) const;
  bool viewSession(const FlowKey& flow, uint64_t nowNs, SessionView& out) const;

 private:
  std::unique_ptr<EngineImpl> impl_;
};

}  // namespace ftpalg::core
