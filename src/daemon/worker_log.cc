#include "daemon/worker_log.h"

namespace ftpalg::daemon {

WorkerLog::WorkerLog(uint16_t queueNum, WorkerStats& stats) : queueNum_(queueNum), stats_(stats) {
  // Admits and passes are the normal case: a larger burst than for trouble.
  limits_[static_cast<size_t>(LogSite::Admit)] = RateLimit(50);
}

}  // namespace ftpalg::daemon
