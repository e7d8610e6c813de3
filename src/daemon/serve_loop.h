// The serve loop of ftpalgd, the same in both kernel modes: one thread per queue worker, the
// main thread waiting for signals (taken synchronously: the caller blocks them before any
// thread starts, so the queue threads never see them) and reporting status to systemd.
#pragma once

#include <signal.h>

#include <functional>
#include <string>
#include <vector>

#include "daemon/queue_worker.h"

namespace ftpalg::daemon {

// What the loop says: the info line once the threads run, the READY=1 status text, and the
// STATUS= text every few seconds.
struct ServeTexts {
  std::string serving;
  std::string ready;
  std::function<std::string()> status;
};

// Opens the overload counters (overload_monitor.h) and drops privileges as main() planned
// (privileges.h; on failure: an error line and no serving, main() exits 1). Then runs every
// worker on its own thread, logs `texts.serving`, notifies READY=1, and waits until one of
// `sigs` is SIGTERM or SIGINT: SIGHUP calls `onHangup`, which reopens the events file after
// logrotate moved it and reloads the configuration (reload.h); once a second the overload
// counters are read, every 5 s STATUS= is sent; the metrics endpoint (metrics_server.h) runs on
// its own thread; with WatchdogSec=, WATCHDOG=1 while every worker
// makes progress (watchdog.h). Then it notifies STOPPING=1, logs the signal, stops the workers
// and joins their threads (each worker drops its held packets on the way out).
void serveUntilSignal(const std::vector<QueueWorker*>& workers, const sigset_t& sigs,
                      const ServeTexts& texts, const std::function<void()>& onHangup = {});

}  // namespace ftpalg::daemon
