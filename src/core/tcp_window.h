// Conntrack's rules for the segments that end or restart a session (nf_conntrack_proto_tcp):
// an RST ends a session only when its sequence number lies in the receiver's window, and a SYN
// on an established session is ignored. A packet these rules call invalid is forwarded but
// changes no engine state, so an off-path sender that knows only the tuple cannot blind the ALG.
#pragma once

#include <cstdint>

#include "ftpalg/core/packet.h"
#include "session.h"

namespace ftpalg::core {

// How far past the next byte expected a segment may lie and still be in window: the largest
// unscaled TCP window (window scaling is not tracked). A sender may have sent, and the engine
// dropped, at most about a window's worth of bytes beyond what was seen.
inline constexpr uint32_t kWindowSlack = 65535;

// True when an RST from direction `d` of session `s` (segment `v`) is in window and so ends
// the session: its seq lies in [what the receiver acknowledged, next byte + kWindowSlack]. For a
// direction not yet seen, the RST must acknowledge the other direction's stream (the answer to
// its SYN or data).
bool rstInWindow(const Session& s, Dir d, const PacketView& v);

// True when data at `seq` lies beyond the window of direction state `ds` (conntrack: invalid).
bool beyondWindow(const DirState& ds, uint32_t seq);

// What a SYN on a session already in the table is.
enum class SynClass : uint8_t {
  Start,          // the direction's first SYN, or a retransmission of it (same ISN)
  NewConnection,  // a client SYN with another ISN on a session that closed or was never answered
  Ignored,        // a SYN with another ISN on an established session: forwarded, state kept
};

// Classifies SYN segment `v` from direction `d` of session `s`. A SYN-ACK must acknowledge the
// client's SYN, as conntrack requires.
SynClass classifySyn(const Session& s, Dir d, const PacketView& v);

}  // namespace ftpalg::core
