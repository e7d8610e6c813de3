// A screening step of the engine's pipeline (engine.cc) for segments a sender may not use to
// change anything: SYN and RST on a known session, judged by conntrack's rules.
#include "actions_out.h"
#include "engine_impl.h"
#include "tcp_window.h"

namespace ftpalg::core {

// Conntrack's rules (tcp_window.h): an ignored SYN or an RST out of window is forwarded as it
// came and changes nothing; a new connection on the tuple ends the old session (s = nullptr).
bool EngineImpl::admitsFlags(Session*& s, const SegmentIn& in, Actions& out) {
  Counter ignored = Counter::SynIgnored;
  if (in.syn && (in.rst || in.fin)) {
    ignored = Counter::InvalidTcpFlags;
  } else if (in.rst) {
    if (rstInWindow(*s, in.d, in.v)) return true;
    ignored = Counter::RstOutOfWindow;
  } else if (const SynClass c = classifySyn(*s, in.d, in.v); c != SynClass::Ignored) {
    if (c == SynClass::NewConnection) {
      endSession(*s, out, true);
      s = nullptr;
    }
    return true;
  }
  counters_.add(ignored);
  addPacket(out, in.handle, PacketVerdict::Accept);
  return false;
}

}  // namespace ftpalg::core
