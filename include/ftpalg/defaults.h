// Defaults and limits that more than one program states: ftpalgd's configuration, `ftpalg
// rules` and the kernel adapters read them from here, so the rules an admin prints match the
// daemon that installs them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ftpalg::defaults {

inline constexpr uint32_t kMark = 0x00f7a1;  // conntrack mark of admitted data conns
inline constexpr std::string_view kMarkText = "0xf7a1";
inline constexpr std::string_view kTable = "ftpalg";       // prefix of the pinhole table name
inline constexpr size_t kMaxTableName = 64;                // nft identifier length we accept
inline constexpr std::string_view kHelperName = "ftpalg";  // conntrack helper name
inline constexpr uint32_t kPinholeTimeoutS = 30;           // pinhole / expectation lifetime
inline constexpr uint32_t kMaxPinholeTimeoutS = 86400;
inline constexpr uint32_t kQueueMaxLen = 4096;  // packets the kernel queues per queue
inline constexpr uint32_t kMinQueueMaxLen = 16;
inline constexpr uint32_t kMaxQueueMaxLen = 1u << 20;
inline constexpr size_t kMaxQueues = 64;     // queues one daemon serves
inline constexpr size_t kMaxExtraPorts = 7;  // control ports besides 21
inline constexpr uint16_t kControlPort = 21;

// Resource limits of each queue's engine (docs/design.md, "Resource limits").
inline constexpr uint32_t kMaxSessions = 131072;  // >= 100k sessions at <= 512 B each
inline constexpr uint32_t kMaxMaxSessions = 1u << 22;
inline constexpr uint32_t kMaxBuffers = 1024;  // pooled direction buffers (~7 KB each)
inline constexpr uint32_t kMaxMaxBuffers = 1u << 18;
inline constexpr uint32_t kHalfOpenTimeoutS = 30;  // session not established yet
inline constexpr uint32_t kHoldTimeoutS = 5;       // a line held without completing
inline constexpr uint32_t kMaxLimitTimeoutS = 3600;

// Sessions that outlive the process (docs/daemon.md, "Restarts and failures").
inline constexpr std::string_view kStateDir = "/run/ftpalg";  // snapshots: <dir>/queue-<N>/
inline constexpr uint32_t kSessionMark = 0x00f7a2;  // conntrack mark of rewritten control conns
inline constexpr std::string_view kSessionMarkText = "0xf7a2";
// The pinhole table of the instance whose first queue is `queue` ("ftpalg_q0"): two instances
// on two queues never share, replace or delete each other's tables.
inline std::string tableName(uint16_t queue) {
  return std::string(kTable) + "_q" + std::to_string(queue);
}
// More engine limits (ftpalgd.toml(5)); the defaults are core::EngineConfig's.
inline constexpr uint32_t kMaxLine = 512;    // longest control line
inline constexpr uint32_t kMinMaxLine = 64;  // the engine's own bounds
inline constexpr uint32_t kMaxMaxLine = 4096;
inline constexpr uint32_t kMaxInFlight = 4096;    // unacknowledged bytes kept per direction
inline constexpr uint32_t kMinMaxInFlight = 128;  // and at least twice kMaxLine
inline constexpr uint32_t kMaxMaxInFlight = 1u << 20;
inline constexpr uint32_t kMaxExpectations = 8;     // outstanding per control session
inline constexpr uint32_t kMaxMaxExpectations = 8;  // the engine remembers 8
inline constexpr uint32_t kIdleTimeoutS = 3600;     // established session without a packet
inline constexpr uint32_t kMinIdleTimeoutS = 10;
inline constexpr uint32_t kMaxIdleTimeoutS = 604800;
inline constexpr uint32_t kCloseTimeoutS = 10;  // closed session kept for late ACKs
inline constexpr uint32_t kMaxHeldPerDirection = 32;
inline constexpr uint32_t kGapDropLimit = 32;  // drops beyond a gap before resync
inline constexpr uint32_t kMaxGapDropLimit = 1024;
// Outstanding admitted announcements remembered per queue (data keys: withdraw and port
// clashes), about 128 bytes each.
inline constexpr uint32_t kMaxDataKeys = 16384;
inline constexpr uint32_t kMinMaxDataKeys = 16;
inline constexpr uint32_t kMaxMaxDataKeys = 262144;
// The daemon's admin control socket (`ftpalg status`).
inline constexpr std::string_view kControlSocket = "/run/ftpalg/control.sock";

}  // namespace ftpalg::defaults
