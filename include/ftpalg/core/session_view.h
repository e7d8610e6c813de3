// A read-only view of the engine's live sessions, for an admin's status display: what each
// control connection is, how far it got, what the engine changed in it and what it still has
// announced. Plain values copied out of the engine; the engine is not changed and no view
// points into it. Called on the engine's own thread (the engine is not thread-safe).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ftpalg/core/engine.h"

namespace ftpalg::core {

// How far the server's replies showed the session to be an FTP login (names are stable).
enum class LoginState : uint8_t {
  AwaitGreeting,  // seen from its SYN, no 220 yet
  Greeted,        // 220 seen, no successful login yet
  LoggedIn,       // 230/232 (or a reply only a logged-in user gets)
  NotFtp,         // the first reply was no FTP greeting
  PickedUp,       // first seen mid-stream, no evidence of a login yet
  Count
};
std::string_view loginStateName(LoginState s);  // "await_greeting", ..., "picked_up"

// One direction of a session's stream.
struct DirectionView {
  uint64_t bytes = 0;        // payload bytes the engine took in this direction (this process)
  int64_t delta = 0;         // rewritten seq - original seq at the next byte: the seq offset
  uint32_t liveSplices = 0;  // rewrites not yet acknowledged by the peer
  bool holding = false;      // a line is being held (its address may need a rewrite)
  bool fin = false;
  bool opaque = false;  // TLS: no longer parsed
};

// One outstanding admitted announcement: what the kernel side admits until `untilNs`.
struct AnnouncementView {
  Expectation expect;
  Dir dir = Dir::C2S;          // who announced it
  bool awaitingReply = false;  // PORT/EPRT/LPRT whose reply has not come yet
  uint64_t untilNs = 0;        // its data key is reserved (the kernel's element lives) until then
};

// One live control connection.
struct SessionView {
  static constexpr size_t kMaxAnnouncements = 16;  // more are counted, not listed
  FlowKey flow;
  NatBinding nat;
  bool natResolved = false;  // the adapter was asked for the binding (else: not yet)
  LoginState login = LoginState::AwaitGreeting;
  bool established = false;
  bool closing = false;  // FIN both ways: kept for closeTimeout
  bool epsvAll = false;
  uint64_t lastSeenNs = 0;
  uint64_t expiresNs = 0;              // ends when no segment comes before then
  uint32_t rewrites = 0;               // announcements admitted with a rewritten address
  std::array<DirectionView, 2> dir{};  // index: Dir
  size_t announcementCount = 0;        // outstanding, all of them
  std::array<AnnouncementView, kMaxAnnouncements> announcements{};  // the newest, first
};

// Receives each session of Engine::viewSessions.
class SessionVisitor {
 public:
  virtual ~SessionVisitor() = default;
  // False stops the walk.
  virtual bool visit(const SessionView& session) = 0;
};

}  // namespace ftpalg::core
