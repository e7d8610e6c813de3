// libFuzzer target for session snapshots (src/core/session_codec.cc, session_snapshot.cc,
// engine_persist.cc): the input is a snapshot file as a successor reads it from state_dir.
// Invariants (trap on violation):
//   - decoding never reads outside the input (exact-size heap copy under AddressSanitizer);
//   - a snapshot that decodes re-encodes to the very same bytes;
//   - an engine adopts it or refuses it with a reason; an adopted session saves again to a
//     snapshot that decodes, and takes a segment without crashing.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "src/core/session_codec.h"

namespace {

using namespace ftpalg::core;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[size == 0 ? 1 : size]);
  if (size != 0) std::memcpy(copy.get(), data, size);
  const std::span<const uint8_t> in(copy.get(), size);
  SessionSnapshot snap;
  const SnapshotError e = decodeSnapshot(in, snap);
  if (e != SnapshotError::None) return 0;
  std::vector<uint8_t> again(kMaxSnapshotBytes);
  again.resize(encodeSnapshot(snap, again));
  check(again.size() == size && std::memcmp(again.data(), copy.get(), size) == 0);

  EngineConfig cfg;
  cfg.maxSessions = 4;
  cfg.maxBufferedDirections = 2;
  cfg.persistSessions = true;
  Engine engine(cfg, nullptr);
  if (engine.adoptSession(in, 1'000'000'000) != SnapshotError::None) return 0;
  std::vector<uint8_t> saved(kMaxSnapshotBytes);
  saved.resize(engine.saveSession(snap.key, saved));
  SessionSnapshot back;
  check(!saved.empty() && decodeSnapshot(saved, back) == SnapshotError::None);
  return 0;
}
