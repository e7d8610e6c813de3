#include "daemon/burst_log.h"

namespace ftpalg::daemon {

bool BurstLog::note(uint64_t nowNs, uint64_t n) {
  const bool starts = !active_;
  if (starts) {
    active_ = true;
    firstNs_ = nowNs;
    total_ = 0;
  }
  lastNs_ = nowNs;
  total_ += n;
  return starts;
}

bool BurstLog::end(uint64_t nowNs, Ended& out) {
  if (!active_ || nowNs - lastNs_ < quietNs_) return false;
  active_ = false;
  out = Ended{total_, lastNs_ - firstNs_};
  return true;
}

}  // namespace ftpalg::daemon
