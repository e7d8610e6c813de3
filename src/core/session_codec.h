// The byte form of a SessionSnapshot, so that it outlives the process (docs/daemon.md,
// "Restarts and failures"). Little-endian, versioned, length- and CRC-checked:
//
//   "FTPS" | version u16 | reserved u16 (0) | total length u32 | body | CRC-32 u32 (of all before)
//
// decode() validates every field (ranges, families, record order, positions consistent with
// each other) and refuses anything else with a SnapshotError: a corrupt or hostile file never
// becomes a session. Views in the decoded snapshot point into the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ftpalg/core/engine.h"
#include "session_snapshot.h"

namespace ftpalg::core {

inline constexpr uint16_t kSnapshotVersion = 1;

// Writes `snap` into `out`; returns the bytes written, 0 when `out` is too small.
size_t encodeSnapshot(const SessionSnapshot& snap, std::span<uint8_t> out);
// Parses and validates `in` into `snap`; SnapshotError::None on success.
SnapshotError decodeSnapshot(std::span<const uint8_t> in, SessionSnapshot& snap);
// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of `data`.
uint32_t crc32(std::span<const uint8_t> data);

}  // namespace ftpalg::core
