// The engine's read-only status views (session_view.h): copied out of the session table, the
// direction buffers and the data keys; nothing is changed. Also the engine's counters and sizes.
#include "ftpalg/core/session_view.h"

#include "engine_impl.h"
#include "ftp_stage.h"
#include "ftpalg/name_table.h"
#include "seq_math.h"

namespace ftpalg::core {
namespace {

constexpr NameRow<LoginState> kLoginStates[] = {
    {LoginState::AwaitGreeting, "await_greeting"}, {LoginState::Greeted, "greeted"},
    {LoginState::LoggedIn, "logged_in"},           {LoginState::NotFtp, "not_ftp"},
    {LoginState::PickedUp, "picked_up"},
};
static_assert(completeNameTable(kLoginStates, static_cast<size_t>(LoginState::Count)));

LoginState loginOf(uint8_t stage) {
  switch (static_cast<FtpStage>(stage)) {
    case FtpStage::AwaitGreeting:
      return LoginState::AwaitGreeting;
    case FtpStage::Greeted:
      return LoginState::Greeted;
    case FtpStage::LoggedIn:
      return LoginState::LoggedIn;
    case FtpStage::NotFtp:
      return LoginState::NotFtp;
    case FtpStage::PickedUp:
      return LoginState::PickedUp;
  }
  return LoginState::AwaitGreeting;
}

}  // namespace

std::string_view loginStateName(LoginState s) { return nameOf(kLoginStates, s); }

void EngineImpl::fillView(Session& s, uint64_t now, SessionView& out) {
  out = SessionView{};
  out.flow = s.key;
  out.nat = s.nat;
  out.natResolved = s.natResolved;
  out.login = loginOf(s.stage);
  out.established = s.established();
  out.closing = s.closing;
  out.epsvAll = s.epsvAll;
  out.lastSeenNs = s.lastSeenNs;
  out.expiresNs = s.lastSeenNs + timeoutOf(s);
  out.rewrites = s.rewrites;
  for (size_t i = 0; i < 2; ++i) {
    const DirState& ds = s.dir[i];
    const DirBuffer* b = pool_.get(ds);
    const uint32_t rewritten = b ? b->map.toRewritten(ds.next) : seqAdd(ds.next, ds.baseDelta);
    DirectionView& v = out.dir[i];
    v.bytes = s.bytes[i];
    v.delta = seqDiff(rewritten, ds.next);
    v.liveSplices = b ? static_cast<uint32_t>(b->map.size()) : 0;
    v.holding = ds.holding;
    v.fin = s.finSeen(static_cast<Dir>(i));
    v.opaque = ds.opaque;
  }
  dataKeys_.forSession(s, [&](const DataKey& k) {
    if (k.untilNs <= now) return;  // expired, not yet pruned: the kernel let it go
    if (out.announcementCount < SessionView::kMaxAnnouncements) {
      out.announcements[out.announcementCount] =
          AnnouncementView{k.x, k.dir, k.awaitingReply, k.untilNs};
    }
    ++out.announcementCount;
  });
}

void EngineImpl::viewSessions(SessionVisitor& visitor, uint64_t now) {
  SessionView view;
  sessions_.forEach([&](Session& s) {
    fillView(s, now, view);
    return visitor.visit(view);
  });
}

bool EngineImpl::viewSession(const FlowKey& flow, uint64_t now, SessionView& out) {
  Session* s = sessions_.find(flow);
  if (s == nullptr) return false;
  fillView(*s, now, out);
  return true;
}

void Engine::viewSessions(SessionVisitor& visitor, uint64_t nowNs) const {
  impl_->viewSessions(visitor, nowNs);
}

bool Engine::viewSession(const FlowKey& flow, uint64_t nowNs, SessionView& out) const {
  return impl_->viewSession(flow, nowNs, out);
}

uint64_t Engine::counter(Counter c) const { return impl_->counter(c); }
size_t Engine::sessionCount() const { return impl_->sessionCount(); }
size_t Engine::outstandingAnnouncements() const { return impl_->outstandingAnnouncements(); }
size_t Engine::sessionStateBytes() { return sizeof(Session); }

}  // namespace ftpalg::core
