#include "daemon/notify.h"

#include <systemd/sd-daemon.h>

#include <string>

namespace ftpalg::daemon {

void notifyReady(std::string_view status) {
  const std::string msg = "READY=1\nSTATUS=" + std::string(status);
  (void)sd_notify(0, msg.c_str());
}

void notifyStatus(std::string_view status) {
  const std::string msg = "STATUS=" + std::string(status);
  (void)sd_notify(0, msg.c_str());
}

void notifyStopping() { (void)sd_notify(0, "STOPPING=1"); }

}  // namespace ftpalg::daemon
