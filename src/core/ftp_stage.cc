#include "ftp_stage.h"

namespace ftpalg::core {

namespace {

bool loginCode(uint16_t code) { return code == 230 || code == 232; }

// Replies a server gives only to a logged-in user (data transfer, passive mode, file actions):
// evidence of a login for a session picked up mid-stream.
bool loggedInEvidence(uint16_t code) {
  switch (code) {
    case 125:
    case 150:
    case 226:
    case 227:
    case 228:
    case 229:
    case 250:
    case 257:
      return true;
    default:
      return loginCode(code);
  }
}

}  // namespace

FtpStage afterReply(FtpStage stage, const ReplyLine& r) {
  const bool ok = r.status == ParseStatus::Ok;
  switch (stage) {
    case FtpStage::AwaitGreeting:
      if (!ok) return FtpStage::NotFtp;
      if (r.code == 120) return stage;  // "ready in n minutes": the 220 follows
      return r.code == 220 ? FtpStage::Greeted : FtpStage::NotFtp;
    case FtpStage::Greeted:
      return ok && r.last && loginCode(r.code) ? FtpStage::LoggedIn : stage;
    case FtpStage::LoggedIn:
      // REIN (220) and "not logged in" (530) end the login; another one is needed.
      return ok && r.last && (r.code == 220 || r.code == 530) ? FtpStage::Greeted : stage;
    case FtpStage::PickedUp:
      return ok && loggedInEvidence(r.code) ? FtpStage::LoggedIn : stage;
    case FtpStage::NotFtp:
      break;
  }
  return stage;
}

Reason stageRefusal(FtpStage stage) {
  switch (stage) {
    case FtpStage::LoggedIn:
      return Reason::Ok;
    case FtpStage::Greeted:
    case FtpStage::PickedUp:
      return Reason::BeforeLogin;
    case FtpStage::AwaitGreeting:
    case FtpStage::NotFtp:
      break;
  }
  return Reason::NotFtp;
}

}  // namespace ftpalg::core
