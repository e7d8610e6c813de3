#include "tcp_window.h"

#include "seq_math.h"

namespace ftpalg::core {

bool rstInWindow(const Session& s, Dir d, const PacketView& v) {
  const DirState& ds = s.dir[static_cast<size_t>(d)];
  const DirState& os = s.dir[static_cast<size_t>(opposite(d))];
  if (ds.started) {
    return seqGe(v.seq, ds.acked) && seqLe(v.seq, seqAdd(ds.next, kWindowSlack));
  }
  // Nothing seen from this side yet (its SYN-ACK or first byte): only its acknowledgement of
  // the other side's stream can be checked.
  if (!os.started) return true;
  return (v.flags & TcpAck) != 0 && seqGe(v.ack, os.acked) && seqLe(v.ack, os.next);
}

bool beyondWindow(const DirState& ds, uint32_t seq) {
  return seqGt(seq, seqAdd(ds.next, kWindowSlack));
}

SynClass classifySyn(const Session& s, Dir d, const PacketView& v) {
  const DirState& ds = s.dir[static_cast<size_t>(d)];
  const bool bare = (v.flags & TcpAck) == 0;
  if (!ds.started) {
    const DirState& cs = s.dir[static_cast<size_t>(Dir::C2S)];
    const bool answers = bare || !cs.started || v.ack == cs.next;
    return d == Dir::C2S || answers ? SynClass::Start : SynClass::Ignored;
  }
  if (ds.next == v.seq + 1) return SynClass::Start;
  // Conntrack reopens a closing connection on a new SYN; one the server never answered is
  // replaced too (the client gave up and connects again from the same port).
  const bool over = s.finMask != 0 || !s.dir[static_cast<size_t>(Dir::S2C)].started;
  if (d == Dir::C2S && bare && over) return SynClass::NewConnection;
  return SynClass::Ignored;
}

}  // namespace ftpalg::core
