// How far a control connection has shown itself to be an FTP session, from the server's own
// replies: greeted (220), logged in (230). With EngineConfig::requireLogin an announcement acts
// only in a logged-in session, so bytes that merely look like PORT or 227 in some other TCP
// stream to a control port (an HTTP POST body, a chat line: slipstreaming) open nothing.
#pragma once

#include <cstdint>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/ftp_parser.h"

namespace ftpalg::core {

// The stage of one session. Only the server's replies move it.
enum class FtpStage : uint8_t {
  AwaitGreeting,  // seen from its SYN: FTP once the server's first reply is a 220
  Greeted,        // the server greeted: announcements wait for the login
  LoggedIn,       // a 230/232 (or, picked up mid-stream, a reply only a logged-in user gets)
  NotFtp,         // the server's first reply was not an FTP greeting: nothing ever acts
  PickedUp,       // first seen mid-stream: waits for evidence of a login
};

// The stage after the server's reply line `r` (trackReply's result for it).
FtpStage afterReply(FtpStage stage, const ReplyLine& r);

// Why an announcement cannot act at `stage`: not_ftp, before_login, or Reason::Ok.
Reason stageRefusal(FtpStage stage);

}  // namespace ftpalg::core
