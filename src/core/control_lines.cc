#include "control_lines.h"

#include "actions_out.h"
#include "ftp_stage.h"

namespace ftpalg::core {

// flatten: one call per line on the packet path (tests/bench/engine_bench.cc).
[[gnu::flatten]] void ControlLines::onLine(const LineContext& c, std::string_view line,
                                           uint32_t lineSeq) {
  counters_.add(Counter::Lines);
  if (c.dir == Dir::C2S) {
    onCommand(c, line, lineSeq);
  } else {
    onReply(c, line, lineSeq);
  }
}

void ControlLines::onBadLine(const LineContext& c, std::string_view line, ParseError err) {
  counters_.add(err == ParseError::LineTooLong ? Counter::LineTooLong : Counter::BadLine);
  const DirState& ds = c.s.at(c.dir);
  const bool looks = c.dir == Dir::C2S
                         ? mayBeAnnouncingCommand(line.substr(0, 4))
                         : mayBeAnnouncingReply(line.substr(0, 4), ds.reply.inMulti, ds.reply.code);
  if (!looks) return;
  // A line that could have been an announcement but is not a valid line: say so, admit nothing.
  Event* e = event(c, EventKind::Malformed);
  if (e == nullptr) return;
  e->verdict = Verdict::Refuse;
  e->reason = err == ParseError::LineTooLong ? Reason::LineTooLong : Reason::ParseFailed;
  e->parseError = err;
}

void ControlLines::onCommand(const LineContext& c, std::string_view line, uint32_t lineSeq) {
  const Command cmd = classifyCommand(line);
  if (const WireForm* form = commandForm(cmd.verb)) {
    const bool awaits = announce(c, *form, form->parse(line), true, line, lineSeq);
    push(c.s, awaits ? Pending::Port : Pending::Other);
    return;
  }
  switch (cmd.verb) {
    case Verb::Pasv:
      push(c.s, Pending::Pasv);
      return;
    case Verb::Lpsv:
      push(c.s, Pending::Lpsv);
      return;
    case Verb::Epsv:
      if (cmd.epsvAll) {
        c.s.epsvAll = true;
        push(c.s, Pending::Other);
        if (Event* e = event(c, EventKind::EpsvAll)) e->verdict = Verdict::Pass;
        return;
      }
      push(c.s, Pending::Epsv);
      return;
    case Verb::Auth:
      push(c.s, cmd.authTls ? Pending::AuthTls : Pending::Other);
      return;
    default:
      break;
  }
  // A client line shaped like a passive reply is a forgery attempt: say so, admit nothing.
  if (const WireForm* form = replyFormOfLine(line); form != nullptr && form->flagFromOther) {
    const AddrParse p = form->parse(line);
    if (p.status == ParseStatus::Ok) announce(c, *form, p, false, line, lineSeq);
  }
  push(c.s, Pending::Other);
}

void ControlLines::onReply(const LineContext& c, std::string_view line, uint32_t lineSeq) {
  DirState& ds = c.s.at(Dir::S2C);
  const ReplyLine r = trackReply(ds.reply, line);
  if (r.status != ParseStatus::Ok) {
    c.s.stage = static_cast<uint8_t>(afterReply(static_cast<FtpStage>(c.s.stage), r));
    counters_.add(Counter::BadLine);
    // A server line shaped like PORT/EPRT is a forgery attempt: say so, admit nothing.
    const WireForm* form = commandForm(classifyCommand(line).verb);
    if (form != nullptr && form->flagFromOther) {
      const AddrParse p = form->parse(line);
      if (p.status == ParseStatus::Ok) announce(c, *form, p, true, line, lineSeq);
    }
    return;
  }
  c.s.stage = static_cast<uint8_t>(afterReply(static_cast<FtpStage>(c.s.stage), r));
  if (r.first) {
    ds.replyFound = false;
    if (c.s.pairing.known()) {
      ds.replyTo = c.s.pairing.front();
    } else {
      const WireForm* form = replyForm(r.code);
      const Pending want = form != nullptr ? form->answers
                           : r.code == 234 ? Pending::AuthTls
                                           : Pending::Unknown;
      ds.replyTo = want == Pending::Unknown ? Pending::Unknown : c.s.pairing.relearn(want);
      const Pending also = form != nullptr ? alsoAnswers(*form) : Pending::Unknown;
      if (ds.replyTo == Pending::Unknown && also != Pending::Unknown) {
        ds.replyTo = c.s.pairing.relearn(also);
      }
    }
  }
  onReplyAddress(c, r, line, lineSeq);
  if (r.last && r.code == 234 && ds.replyTo == Pending::AuthTls) onAuthTls(c);
  if (r.last && r.code >= 200 && ds.replyTo == Pending::Port) {
    announcer_.answered(c.s, r.code < 300, c.nowNs, c.out);
  }
  if (r.last && r.code >= 200 && c.s.pairing.known()) c.s.pairing.pop();
}

// The first line of a reply with a valid address announces it; when none has one, the last
// line reports the error.
void ControlLines::onReplyAddress(const LineContext& c, const ReplyLine& r, std::string_view line,
                                  uint32_t lineSeq) {
  DirState& ds = c.s.at(Dir::S2C);
  const WireForm* form = replyForm(r.code);
  if (form == nullptr || ds.replyFound) return;
  const AddrParse p = form->parse(line);
  if (p.status == ParseStatus::Ok) {
    ds.replyFound = true;
    announce(c, *form, p, answersCommand(*form, ds.replyTo), line, lineSeq);
  } else if (r.last) {
    announce(c, *form, p, false, line, lineSeq);
  }
}

// TLS from here on: nothing more in either direction can be inspected.
void ControlLines::onAuthTls(const LineContext& c) {
  c.s.dir[0].opaque = true;
  c.s.dir[1].opaque = true;
  counters_.add(Counter::TlsSessions);
  if (Event* e = event(c, EventKind::AuthTls)) {
    e->verdict = Verdict::Pass;
    e->reason = Reason::TlsOpaque;
  }
}

bool ControlLines::announce(const LineContext& c, const WireForm& form, const AddrParse& p,
                            bool solicited, std::string_view line, uint32_t lineSeq) {
  Announcement a;
  a.dir = c.dir;
  a.form = &form;
  a.parse = p;
  a.solicited = solicited;
  a.line = line;
  a.lineSeq = lineSeq;
  a.handle = c.handle;
  a.nowNs = c.nowNs;
  return announcer_.announce(c.s, a, c.out);
}

void ControlLines::push(Session& s, Pending p) {
  if (s.pairing.push(p)) counters_.add(Counter::PairingLost);
}

Event* ControlLines::event(const LineContext& c, EventKind kind) {
  return addSessionEvent(c.out, counters_, c.s, c.dir, kind, c.handle, c.nowNs);
}

}  // namespace ftpalg::core
