// TCP sequence-number arithmetic modulo 2^32 (RFC 9293 3.4). Internal to the core.
#pragma once

#include <cstdint>

namespace ftpalg::core {

// Signed distance a - b, valid while |a - b| < 2^31.
inline int32_t seqDiff(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }
inline bool seqLt(uint32_t a, uint32_t b) { return seqDiff(a, b) < 0; }
inline bool seqLe(uint32_t a, uint32_t b) { return seqDiff(a, b) <= 0; }
inline bool seqGt(uint32_t a, uint32_t b) { return seqDiff(a, b) > 0; }
inline bool seqGe(uint32_t a, uint32_t b) { return seqDiff(a, b) >= 0; }
inline uint32_t seqMax(uint32_t a, uint32_t b) { return seqGe(a, b) ? a : b; }
inline uint32_t seqMin(uint32_t a, uint32_t b) { return seqLe(a, b) ? a : b; }
inline uint32_t seqAdd(uint32_t a, int64_t d) {
  return static_cast<uint32_t>(static_cast<int64_t>(a) + d);
}

}  // namespace ftpalg::core
