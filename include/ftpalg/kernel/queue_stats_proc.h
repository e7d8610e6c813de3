// The kernel's own counters of every NFQUEUE queue of this network namespace, from
// /proc/net/netfilter/nfnetlink_queue (net/netfilter/nfnetlink_queue.c, seq_show): one line per
// bound queue,
//   "    0  12345     3 2 65535     0     0      421  1"
// = queue number, peer port id, packets queued now, copy mode, copy range, queue_dropped
// (queue full, fail-closed), queue_user_dropped (the daemon's socket could not take the
// message, fail-closed), last packet id, and the constant 1. In fail-open mode the kernel
// accepts what it cannot queue without counting it in either counter.
//
// The file is mode 0440 root:root: QueueStatsFile opens it once (as root, before privileges are
// dropped) and rereads the same descriptor from offset 0 each time.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ftpalg/status.h"

namespace ftpalg::kernel {

// One line of the file. The kernel's counters are 32 bits wide and wrap.
struct QueueProcStats {
  uint16_t queueNum = 0;
  uint32_t portId = 0;
  uint32_t queueTotal = 0;  // packets waiting for a verdict now
  uint32_t copyMode = 0;
  uint32_t copyRange = 0;
  uint32_t queueDropped = 0;  // queue full, fail-closed: dropped
  uint32_t userDropped = 0;   // netlink unicast to the daemon failed, fail-closed: dropped
  uint32_t idSequence = 0;    // id of the last packet queued
};

// Parses one line (without or with its '\n'); false when it does not have the nine numeric
// fields of the format above.
[[nodiscard]] bool parseQueueStatsLine(std::string_view line, QueueProcStats& out);

// Parses the whole file; lines that do not parse are skipped and counted in `badLines`.
std::vector<QueueProcStats> parseQueueStats(std::string_view text, size_t* badLines = nullptr);

// Growth of a wrapping 32-bit kernel counter from `before` to `after`.
constexpr uint32_t counterDelta(uint32_t before, uint32_t after) { return after - before; }

// The open file. Not thread-safe; one reader.
class QueueStatsFile {
 public:
  // Through /proc/self: the unit's ProcSubset=pid hides /proc/net but not a process's own net/.
  static constexpr const char* kPath = "/proc/self/net/netfilter/nfnetlink_queue";

  QueueStatsFile() = default;
  ~QueueStatsFile();
  QueueStatsFile(const QueueStatsFile&) = delete;
  QueueStatsFile& operator=(const QueueStatsFile&) = delete;

  // Opens `path` (ENOENT: nfnetlink_queue not loaded; EACCES: not root).
  Status open(const char* path = kPath);
  [[nodiscard]] bool isOpen() const { return fd_ >= 0; }
  // Reads the whole file again and parses it.
  Status read(std::vector<QueueProcStats>& out);

 private:
  int fd_ = -1;
  std::vector<char> buf_;
};

}  // namespace ftpalg::kernel
