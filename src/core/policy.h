// Policy for one parsed announcement: who may announce what, and how it is rewritten for NAT.
// A pure function of its inputs; the engine supplies the session context.
#pragma once

#include <cstddef>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/ftp_parser.h"

namespace ftpalg::core {

// Everything the policy needs to judge one announcement line.
struct AnnouncementContext {
  Dir dir = Dir::C2S;
  EventKind kind = EventKind::Port;
  const AddrParse* parse = nullptr;
  Family connFamily = Family::V4;
  const NatBinding* nat = nullptr;
  bool epsvAll = false;   // client sent EPSV ALL
  bool solicited = true;  // reply answers a pending PASV/EPSV/LPSV
  size_t outstandingExpectations = 0;
  Reason stageRefusal = Reason::Ok;  // requireLogin: not_ftp / before_login until logged in
  const EngineConfig* config = nullptr;
};

// The verdict and, when admitted, the rewritten endpoint and the expectation.
struct PolicyDecision {
  Verdict verdict = Verdict::Refuse;
  Reason reason = Reason::Ok;
  Endpoint announced;    // for 229 the address is the server's own
  bool rewrite = false;  // the address text must be replaced by the rewritten endpoint's
  Endpoint rewritten;
  Expectation expect;
};

PolicyDecision decideAnnouncement(const AnnouncementContext& ctx);

}  // namespace ftpalg::core
