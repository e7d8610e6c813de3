// The session snapshots of one queue as files, one per session, in one directory (state_dir,
// docs/daemon.md "Restarts and failures"): written atomically (write a temporary file, rename
// it over the old one) before the verdicts that depend on them leave, read back by a successor
// at start. The file operations are few on purpose (a seccomp allow-list names them):
// mkdir, openat, write, read, renameat, unlinkat, getdents64 (reading the directory), close.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// One queue's snapshot directory. Used by one thread.
class SessionStore {
 public:
  // `dir`: where the snapshots live; empty: the store is disabled and every call succeeds.
  explicit SessionStore(std::string dir);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  // Creates the directory (and its parents) mode 0700 unless it exists, and opens it.
  Status open();
  [[nodiscard]] bool enabled() const { return !dir_.empty(); }
  [[nodiscard]] const std::string& dir() const { return dir_; }

  // Replaces the snapshot of `flow` with `bytes`: write + rename, so a reader sees the old or
  // the new snapshot whole, whenever this process dies.
  Status store(const core::FlowKey& flow, std::span<const uint8_t> bytes);
  // Removes the snapshot of `flow` (none stored: ok).
  Status erase(const core::FlowKey& flow);
  // Calls f(file name, bytes) for every snapshot file in the directory (at most
  // kMaxSnapshotBytes + 1 bytes of each: a longer file is refused as too large), and removes
  // leftover temporary files of an interrupted write.
  Status forEach(const std::function<void(std::string_view, std::span<const uint8_t>)>& f);
  // Removes the snapshot file `name` (one forEach() gave).
  Status eraseName(std::string_view name);

  // "4-c6120102.9c41-c6130102.0015.snap": family, client address.port, server address.port.
  static std::string fileName(const core::FlowKey& flow);

 private:
  std::string dir_;
  int fd_ = -1;
};

}  // namespace ftpalg::daemon
