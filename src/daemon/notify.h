// Every sd_notify(3) call of ftpalgd. Without a service manager (NOTIFY_SOCKET unset) they do
// nothing.
#pragma once

#include <string_view>

namespace ftpalg::daemon {

// READY=1 plus STATUS=<status>: queues bound, rules and pinhole table installed.
void notifyReady(std::string_view status);
// STATUS=<status>: a one-line summary (counters), refreshed periodically.
void notifyStatus(std::string_view status);
// STOPPING=1: shutdown has begun.
void notifyStopping();

}  // namespace ftpalg::daemon
