// Session snapshots as the engine reads them (Engine::saveSession / adoptSession): why one is
// refused, how large one may be, and the flow it names. Split from engine.h to keep it small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace ftpalg::core {

struct FlowKey;
struct NatBinding;

// Why Engine::adoptSession refused a snapshot. Closed set; names are stable (logged).
enum class SnapshotError : uint8_t {
  None = 0,
  Truncated,    // shorter than its header or its own length field says
  TooLarge,     // longer than kMaxSnapshotBytes, or bytes after its end
  BadMagic,     // not a session snapshot
  BadVersion,   // written by a format version this engine does not read
  BadChecksum,  // CRC-32 mismatch: corrupted
  BadField,     // a field out of range or inconsistent with another
  NotControl,   // the server port is not one of this engine's control ports
  TooBig,       // flight or line bytes beyond this engine's maxInFlight / maxLine
  Exists,       // a session with this flow is already live
  TableFull,    // no free session slot
  Count
};
std::string_view snapshotErrorName(SnapshotError e);
// Upper bound of one snapshot's size (two directions of 4096 flight + 4096 line bytes fit).
inline constexpr size_t kMaxSnapshotBytes = 65536;
// The flow and NAT binding a valid snapshot names (so an adapter can check that its connection
// still exists before adopting it); the snapshot's own error otherwise.
SnapshotError snapshotFlow(std::span<const uint8_t> snapshot, FlowKey& flow, NatBinding& nat);

}  // namespace ftpalg::core
