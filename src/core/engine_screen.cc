// Two screening steps of the engine's pipeline (engine.cc) for segments a sender may not use to
// change or leak anything: SYN and RST on a known session, judged by conntrack's rules, and
// retransmissions reaching back over a rewrite that was acknowledged and forgotten.
#include "actions_out.h"
#include "engine_impl.h"
#include "seq_math.h"
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

// A retransmission of bytes before a forgotten splice would leave with the original address at
// a shifted sequence number. With userspace sequence adjustment the part still in flight is
// rendered from history and the acknowledged front is cut off; whatever cannot be rendered so
// (nothing in flight, or the kernel adjusting sequence numbers, where lengths must not change)
// is dropped: the receiver already acknowledged those bytes. False when dropped.
bool EngineImpl::acceptStale(const DirState& ds, SegmentIn& in, const Classified& c, Actions& out) {
  const DirBuffer* b = pool_.get(ds);
  const bool inFlight = b != nullptr && seqGt(in.end(), b->flightStart);
  if (cfg_.kernelSeqAdjust || (c.cls == SegmentClass::Duplicate && !inFlight)) {
    drop(in, Counter::AckedRetransmitDropped, out);
    return false;
  }
  counters_.add(Counter::AckedRetransmitTrimmed);
  in.stale = true;
  return true;
}

}  // namespace ftpalg::core
