// Holding: applying the hold decision (hold.h) to a direction, and parking the packets of a
// line that may still become an announcement until it completes.
#pragma once

#include <cstdint>

#include "counters.h"
#include "dir_buffers.h"
#include "session.h"

namespace ftpalg::core {

// Whether the line in progress in direction `d` of `s` must be held from original byte `at`
// on. Records an address spliced early (DirState::earlySpliced, Counter::Rewrites; a splice
// that changes the length sets out.streamShifted).
// `holdReplies`: passive replies are held even without NAT (rewrite_to_peer may rewrite them).
bool mustHold(Session& s, Dir d, DirBufferPool& pool, Counters& counters, uint32_t& at,
              Actions& out, bool holdReplies = false);

// Parks `packet` after the held ones; when `cap` (at most kMaxHeld) are held already the oldest
// is dropped (its bytes are coalesced into a later packet). The packet's verdict is Hold.
void park(DirBuffer& b, const HeldSeg& packet, Actions& out, Counters& counters,
          size_t cap = kMaxHeld);

}  // namespace ftpalg::core
