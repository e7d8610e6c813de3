// Screening steps of the engine's pipeline (engine.cc) for segments a sender may not use to
// change or leak anything: SYN and RST on a known session, judged by conntrack's rules and
// RFC 5961, and retransmissions reaching back over a rewrite that was acknowledged and forgotten.
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

// An RST in window (admitsFlags). At its sender's next byte, or at what the receiver
// acknowledged (conntrack accepts both), it ends the session. Any other is what a blind sender
// hits one time in 65 536: the endpoint answers it with a challenge ACK and keeps its
// connection (RFC 5961), so the session, and the sequence shift of its rewrites, is kept too;
// only marked, it ends in expire() if nothing follows.
void EngineImpl::onRst(Session& s, const SegmentIn& in, Actions& out) {
  DirState& ds = s.at(in.d);
  emitter_.forwardAsIs(ds, in.o, in.v.seq, out);
  if (in.v.seq == ds.next || in.v.seq == ds.acked) {
    endSession(s, out, true);
    return;
  }
  counters_.add(Counter::RstChallenged);
  if (s.resetPending) return;  // the first one sets the deadline
  s.resetPending = true;
  s.resetPendingDir = static_cast<uint8_t>(in.d);
  s.resetPendingNs = in.now;
}

// The connection lives on after a pending RST: in-window data, an acknowledgement that
// advances (peerAckedBefore: the acknowledged point before this segment), or the challenge
// ACK of the RST's receiver (a bare ACK at exactly its next byte).
void EngineImpl::clearResetPending(Session& s, const SegmentIn& in, uint32_t peerAckedBefore) {
  if (in.rst || in.syn) return;
  const DirState& ds = s.at(in.d);
  const bool data = in.len > 0 && seqGt(in.end(), ds.acked) && !beyondWindow(ds, in.v.seq);
  const bool advances = seqGt(s.at(opposite(in.d)).acked, peerAckedBefore);
  const bool challenge = static_cast<uint8_t>(in.d) != s.resetPendingDir && in.len == 0 &&
                         !in.fin && (in.v.flags & TcpAck) != 0 && in.v.seq == ds.next;
  if (data || advances || challenge) s.resetPending = false;
}

}  // namespace ftpalg::core
