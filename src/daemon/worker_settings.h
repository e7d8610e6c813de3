// The configuration of one queue worker, derived from the daemon's configuration: queue, engine
// policy and limits, pinhole table. Both kernel modes start from it.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/config.h"
#include "daemon/queue_worker.h"

namespace ftpalg::daemon {

// The settings of the worker serving queue `queue`.
WorkerSettings workerSettings(const DaemonConfig& cfg, uint16_t queue);

// Test and diagnosis switches from the environment (docs/daemon.md, "Withdrawals"):
// FTPALGD_WITHDRAW=sync withdraws on the queue thread (withdrawQueue 0), =batch on the queue
// thread after each receive batch's verdicts (withdrawAfterBatch), FTPALGD_NFT_DESTROY=off
// deletes with NFT_MSG_DELSETELEM as kernels before 6.3 must (pinhole.destroyElements false).
void applyWithdrawEnvironment(WorkerSettings& s);

// The network namespace the daemon runs in (inode of /proc/self/ns/net; 0 if unknown).
uint64_t netnsId();

// Where queue `queue`'s session snapshots live: per network namespace, so instances in other
// namespaces (containers, test hosts) sharing /run never adopt or remove each other's snapshots.
std::string stateDirOf(const std::string& root, uint64_t netns, uint16_t queue);

}  // namespace ftpalg::daemon
