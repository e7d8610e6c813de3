#include "announce.h"

#include <algorithm>

#include "actions_out.h"
#include "ftp_stage.h"
#include "rewrite_text.h"
#include "seq_math.h"

namespace ftpalg::core {

size_t outstandingExpectations(const std::array<uint64_t, kMaxExpect>& until, uint64_t nowNs) {
  size_t n = 0;
  for (uint64_t u : until) n += u > nowNs ? 1 : 0;
  return n;
}

void recordExpectation(std::array<uint64_t, kMaxExpect>& until, size_t limit, uint64_t endNs) {
  const auto n = static_cast<std::ptrdiff_t>(std::min(limit, until.size()));
  *std::min_element(until.begin(), until.begin() + n) = endNs;
}

PolicyDecision Announcer::decide(const Session& s, const Announcement& a) const {
  AnnouncementContext ctx;
  ctx.dir = a.dir;
  ctx.kind = a.form->kind;
  ctx.parse = &a.parse;
  ctx.connFamily = s.key.client.addr.family;
  ctx.nat = &s.nat;
  ctx.epsvAll = s.epsvAll;
  ctx.solicited = a.solicited;
  ctx.outstandingExpectations = outstandingExpectations(s.expectUntil, a.nowNs);
  ctx.config = &cfg_;
  if (cfg_.requireLogin) ctx.stageRefusal = stageRefusal(static_cast<FtpStage>(s.stage));
  return decideAnnouncement(ctx);
}

Reason Announcer::splice(DirState& ds, const Announcement& a, const Endpoint& rewritten,
                         Actions& out) {
  const AddrParse& p = a.parse;
  const uint32_t spanStart = a.lineSeq + p.span.offset;
  const RewriteText rt = rewriteText(*a.form, rewritten, p.delim);
  const std::array<char, 80>& text = rt.text;
  const size_t n = rt.len;
  // Splice only from the first byte that differs: what reads the same may have passed
  // already (see decideHold), and a shorter splice is the same rewrite.
  const std::string_view orig = a.line.substr(p.span.offset, p.span.length);
  size_t same = 0;
  while (same < orig.size() && same < n && orig[same] == text[same]) ++same;
  if (seqLt(spanStart + static_cast<uint32_t>(same), ds.released)) {
    return Reason::PartiallyReleased;
  }
  DirBuffer* b = pool_.get(ds);
  if (n == 0) return rt.why;
  if (b == nullptr) return Reason::NoBuffer;  // the line was assembled in it: never expected
  if (!b->map.add(spanStart + static_cast<uint32_t>(same),
                  static_cast<uint16_t>(p.span.length - same),
                  std::span<const char>(text.data() + same, n - same))) {
    counters_.add(Counter::SeqAdjFull);
    return Reason::RewriteTableFull;
  }
  if (n != p.span.length) out.streamShifted = true;
  counters_.add(Counter::Rewrites);
  return Reason::Ok;
}

bool Announcer::announce(Session& s, const Announcement& a, Actions& out) {
  counters_.add(Counter::Announcements);
  Event* e = addSessionEvent(out, counters_, s, a.dir, a.form->kind, a.handle, a.nowNs);
  Event scratch;
  if (e == nullptr) e = &scratch;  // still decide and count; the event itself is suppressed
  if (a.parse.status != ParseStatus::Ok) {
    e->verdict = Verdict::Refuse;
    e->reason = Reason::ParseFailed;
    e->parseError = a.parse.error;
    counters_.add(Counter::Refused);
    return false;
  }
  PolicyDecision dec = decide(s, a);
  if (dec.reason == Reason::PasvAddressMismatch || dec.reason == Reason::RewrittenToPeer) {
    counters_.add(Counter::PasvAddressMismatch);
  }
  if (dec.verdict == Verdict::Admit) {
    if (const Reason r = reserve(s, a, dec); r != Reason::Ok) {
      dec.verdict = Verdict::Refuse;
      dec.reason = r;
    }
  }
  e->hasAnnounced = true;
  e->announced = dec.announced;
  DirState& ds = s.at(a.dir);
  if (ds.earlySpliced && a.form->addressPrefix != nullptr) {
    // The address was spliced while the line was still arriving (see decideHold).
    e->hasRewritten = true;
    e->rewritten = Endpoint{s.nat.clientOutside, a.parse.ep.port};
  } else if (dec.verdict == Verdict::Admit && dec.rewrite) {
    if (const Reason r = splice(ds, a, dec.rewritten, out); r != Reason::Ok) {
      dec.verdict = Verdict::Refuse;
      dec.reason = r;
    }
  }
  e->verdict = dec.verdict;
  e->reason = dec.reason;
  if (dec.verdict != Verdict::Admit) {
    counters_.add(Counter::Refused);
    return false;
  }
  counters_.add(Counter::Admitted);
  if (!(dec.rewritten == dec.announced)) {
    e->hasRewritten = true;
    e->rewritten = dec.rewritten;
  }
  e->hasExpect = true;
  e->expect = dec.expect;
  if (e->hasRewritten) ++s.rewrites;
  const bool awaits = a.dir == Dir::C2S && a.form->from == Dir::C2S;
  record(s, dec.expect, a.dir, awaits, a.nowNs);
  return awaits;
}

}  // namespace ftpalg::core
