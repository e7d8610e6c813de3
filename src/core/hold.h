// The hold decision: how much of a control line still arriving may be forwarded now. A pure
// function of the line prefix and the session's NAT binding; the engine applies the result.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/ftp_parser.h"

namespace ftpalg::core {

// Everything the decision reads about the line in progress.
struct HoldInput {
  Dir dir = Dir::C2S;
  std::string_view prefix;  // the line's bytes so far (no terminator yet), not empty
  const NatBinding* nat = nullptr;
  const ReplyTracker* reply = nullptr;  // S2C: the multi-line reply state
  uint32_t lineStart = 0;               // original seq of prefix[0]
  uint32_t released = 0;                // original bytes before this have been forwarded
  bool earlySpliced = false;            // this line's address is already rewritten
  bool holdReplies = false;  // passive replies may be rewritten without NAT (rewrite_to_peer)
};

// Pass: forward everything. HoldFrom: hold from original byte `at` on. SpliceNow: the
// address is complete; replace origLen bytes at `at` by text[0..textLen) now, then pass (if
// the splice cannot be recorded, hold from `at` and let the completed line decide).
struct HoldDecision {
  enum class Kind : uint8_t { Pass, HoldFrom, SpliceNow };
  Kind kind = Kind::Pass;
  uint32_t at = 0;
  uint16_t origLen = 0;
  uint8_t textLen = 0;
  std::array<char, 64> text{};
};

HoldDecision decideHold(const HoldInput& in);

}  // namespace ftpalg::core
