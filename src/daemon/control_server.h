// ftpalgd's admin control socket (docs/daemon.md, "Status"): a Unix stream socket answering
// `ftpalg status`. One request line in (control_request.h), one JSON document out
// (status_json.h), then the connection closes. Served by its own thread, never by a queue
// thread: live session data is asked of each worker through its StatusMailbox and waited for
// at most kWorkerTimeout, so a stuck worker shows as such and blocks nothing.
//
// Access: the socket file is 0600, or 0660 with the group `control_group`; and each peer is
// checked with SO_PEERCRED: uid 0, the daemon's own uid, or a member of that group (primary or
// supplementary, SO_PEERGROUPS). Clients are served one at a time (listen backlog
// kBacklog); each has kReadTimeout to send its line and kWriteTimeout to take the answer.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "daemon/queue_worker.h"
#include "daemon/status_json.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// Where and for whom the control socket is.
struct ControlSettings {
  std::string path;        // "" or none registered: no control socket
  std::string group;       // "" : root and the daemon's user only
  std::string kernelMode;  // "pinhole" or "expectation", as sessions show it
};

// The settings main() registers (like the privilege plan) for the serve loop.
void registerControlSettings(const ControlSettings& settings);
[[nodiscard]] const ControlSettings& registeredControlSettings();

// The control socket and its thread.
class ControlServer {
 public:
  static constexpr std::chrono::milliseconds kWorkerTimeout{2000};
  static constexpr std::chrono::milliseconds kReadTimeout{1000};
  static constexpr std::chrono::milliseconds kWriteTimeout{5000};
  static constexpr int kBacklog = 16;

  ControlServer(ControlSettings settings, std::vector<QueueWorker*> workers);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds the socket and sets its owner group and mode (before privileges are dropped).
  // An existing socket another process still answers on is an error; a stale one is replaced.
  Status open();
  // Serves on a new thread until stop() (or destruction), which also removes the socket file.
  void start();
  void stop();

  // One request line -> its response (what a client gets), for the socket thread and tests.
  std::string answer(std::string_view line);
  // Whether a peer with these credentials may ask (uid 0, the daemon's uid, the group).
  [[nodiscard]] bool allowed(uid_t uid, gid_t gid, const std::vector<gid_t>& groups) const;

 private:
  void serve();
  void serveClient(int fd);
  std::vector<QueueAnswer> ask(const StatusQuestion& q);
  [[nodiscard]] DaemonInfo info() const;

  ControlSettings settings_;
  std::vector<QueueWorker*> workers_;
  int listenFd_ = -1;
  int stopPipe_[2] = {-1, -1};
  bool haveGroup_ = false;
  gid_t gid_ = 0;
  uid_t ownUid_ = 0;
  uint64_t startNs_ = 0;
  std::thread thread_;
};

}  // namespace ftpalg::daemon
