// One NFQUEUE queue and everything that serves it, driven by one thread: the receive -> engine
// -> verdict loop. What depends on the kernel mode (how admits reach the kernel, where NAT
// bindings come from, what the engine sees of a packet) is the Admitter, chosen once when the
// worker is built; events go to the EventLog; every failure goes through WorkerLog::fail() and
// gets the verdict kFailurePolicy (failure_policy.h) states.
//
// Per packet: parse; not TCP control traffic -> accept; otherwise Admitter::begin, then
// Engine::onSegment with the packet id as handle and CLOCK_MONOTONIC as time, then apply the
// Actions: events first (admit, note rewritten sessions, write JSON and log lines), packet
// verdicts second; Admitter::end. Verdicts of one receive batch leave in one sendmsg; the
// admits they depend on were installed synchronously before.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "daemon/admitter.h"
#include "daemon/burst_log.h"
#include "daemon/ct_state_publisher.h"
#include "daemon/event_log.h"
#include "daemon/event_sink.h"
#include "daemon/held_pool.h"
#include "daemon/limit_report.h"
#include "daemon/packet_queue.h"
#include "daemon/policy_mailbox.h"
#include "daemon/recent_events.h"
#include "daemon/session_store.h"
#include "daemon/stats_snapshot.h"
#include "daemon/status_mailbox.h"
#include "daemon/worker_log.h"
#include "daemon/worker_metrics.h"
#include "daemon/worker_stats.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/local_addresses.h"
#include "ftpalg/kernel/pinhole.h"
#include "ftpalg/kernel/queue_socket.h"

namespace ftpalg::daemon {

// What one worker is built from (main.cc fills it from the daemon configuration).
struct WorkerSettings {
  kernel::QueueConfig queue;
  core::EngineConfig engine;
  kernel::PinholeConfig pinhole;
  size_t heldCapacity = 4096;  // held packet copies per queue
  // Expectation mode: admits are conntrack expectations; queue.conntrack and
  // engine.kernelSeqAdjust must be set too.
  bool expectationMode = false;
  // Pinhole mode: session snapshots for a successor (SessionStore); empty: none kept.
  std::string stateDir;
  uint32_t sessionMark = 0;  // conntrack mark of rewritten control connections; 0: none
  // Refuse the gateway's own addresses as announced endpoints: the addresses of this network
  // namespace (kernel::LocalAddresses), added to engine.gatewayAddresses and kept current.
  bool watchLocalAddresses = false;
  // Pinhole mode, conntrack_state = "labels": each stored session's record in its control
  // connection's conntrack labels from bit stateLabelBit (CtStatePublisher), and offsets read
  // from there for sessions met mid-stream.
  bool stateLabels = false;
  unsigned stateLabelBit = 48;
  // Pinhole mode: withdrawals of ended sessions outstanding off the packet path at most
  // (withdraw_queue.h); 0: every withdrawal on the queue thread.
  size_t withdrawQueue = 1024;
  // Who withdraws them: the queue's withdrawal thread, or (FTPALGD_WITHDRAW=batch) the queue
  // thread after each receive batch's verdicts.
  bool withdrawAfterBatch = false;
};

// Serves one queue on one thread (see above).
class QueueWorker : public kernel::PacketHandler {
 public:
  // Builds the worker's admitter; the log is the worker's own (failures, counters).
  using AdmitterFactory = std::function<std::unique_ptr<Admitter>(WorkerLog& log)>;

  // The kernel queue of settings.queue and the admitter of the mode the settings name.
  QueueWorker(const WorkerSettings& settings, EventSink& events);
  // Any queue (not owned; it must outlive the worker) and the admitter `makeAdmitter` builds
  // (tests).
  QueueWorker(const WorkerSettings& settings, EventSink& events, PacketQueue& queue,
              const AdmitterFactory& makeAdmitter);
  ~QueueWorker() override;
  QueueWorker(const QueueWorker&) = delete;
  QueueWorker& operator=(const QueueWorker&) = delete;

  // Opens the admitter's sockets and binds the queue. Called before the thread starts, so that
  // startup errors reach main().
  Status open();
  // Serves the queue until `stop` is set, then shutdown().
  void run(const std::atomic<bool>& stop);
  // One round of run(): a blocking receive, what else is queued, the batch's verdicts and
  // events flushed; the once-a-second expiry when due.
  void serveOnce();
  // Expires sessions and admitter state as of `nowNs` (run() calls it once a second).
  void expire(uint64_t nowNs);
  // Drops every held packet (fail closed) and flushes.
  void shutdown();

  void onPacket(const kernel::QueuedPacket& packet) override;

  [[nodiscard]] const WorkerStats& stats() const { return stats_; }
  [[nodiscard]] uint16_t queueNum() const { return settings_.queue.queueNum; }
  [[nodiscard]] const WorkerSettings& settings() const { return settings_; }
  // The engine, for its counters once the worker's thread has ended (counter_report.h).
  [[nodiscard]] const core::Engine& engine() const { return engine_; }
  // Configuration reload, from another thread: the engine takes the policy and timeouts of
  // `engine` (Engine::applyPolicy) at the start of the next serve round.
  void requestPolicy(const core::EngineConfig& engine) { policy_.post(engine); }
  // For the metrics endpoint, from another thread: events by kind, verdict and reason and the
  // verdict latency (atomics), and the engine's counters as last published (once per round).
  [[nodiscard]] const WorkerMetrics& metrics() const { return metrics_; }
  [[nodiscard]] const StatsSnapshot& published() const { return published_; }
  // The control socket's questions (control_server.h), answered at the start of each serve
  // round (status_answer.cc).
  StatusMailbox& statusMailbox() { return status_; }
  // Answers a pending status question now (serveOnce() does; tests call it directly).
  void answerStatus(uint64_t nowNs);

 private:
  // An admit that could not be installed. Until it is, packets of that flow and direction
  // carrying payload are dropped (the sender retransmits, and each retransmission retries).
  struct PendingAdmit {
    core::FlowKey flow;
    core::Dir dir = core::Dir::C2S;
    core::Expectation expect;
    uint64_t sinceNs = 0;
  };

  QueueWorker(const WorkerSettings& settings, EventSink& events,
              std::unique_ptr<PacketQueue> ownedQueue, PacketQueue* queue,
              const AdmitterFactory& makeAdmitter);
  void apply(uint64_t nowNs, const kernel::QueuedPacket* current, const core::PacketView* view,
             const core::FlowKey& flow, core::Dir dir);
  // Handles of this round's announcements whose admit failed: what they release is dropped.
  struct FailedAdmits {
    std::array<uint64_t, core::Actions::kMaxEvents> handles{};
    size_t count = 0;
    bool dropReleased = false;  // an earlier failed admit still fails: drop all released
    [[nodiscard]] bool drops(uint64_t handle) const;
  };
  // One packet action; `current` is the packet being served when the action is about it, else
  // the action is about a held packet.
  void applyPacket(const core::PacketAction& a, const kernel::QueuedPacket* current,
                   const FailedAdmits& failed, uint64_t nowNs);
  void hold(uint32_t id, std::span<const uint8_t> bytes, uint64_t nowNs);
  void rewrite(const core::PacketAction& a, std::span<const uint8_t> bytes, uint64_t nowNs);
  // Returns false when the announcement's packet must be dropped (admit not installed).
  bool applyEvent(const core::Event& event, uint64_t nowNs);
  // A withdraw event: the admitter deletes what the announcement installed.
  void withdraw(const core::Event& event, uint64_t nowNs);
  bool retryPending(const core::FlowKey& flow, core::Dir dir, uint64_t nowNs);
  // Marks `flow`, whose stream the engine just shifted (Failure::ShiftMarkFailed if it fails).
  void markShifted(const core::FlowKey& flow, uint64_t nowNs);
  void verdict(uint32_t id, kernel::NfVerdict v, std::span<const uint8_t> packet = {});
  // The verdict a failure policy row gives packet `id` (none for FailVerdict::Unchanged).
  void failVerdict(uint32_t id, FailVerdict v);
  void flushBatch();
  [[nodiscard]] bool isControlPort(uint16_t port) const;
  // Installs the sessions stored in the state directory (before the queue is bound).
  Status adoptStored();
  // Stores or erases the snapshots of actions_.states (before the verdicts leave).
  void persistStates(uint64_t nowNs);
  // Gives the engine the configured gateway addresses and the namespace's own.
  void applyLocalAddresses();
  // ENOBUFS on receive: counted, logged once per burst (overrun.cc).
  void onOverrun(uint64_t nowNs);
  void expireOverrun(uint64_t nowNs);

  WorkerSettings settings_;
  WorkerStats stats_;
  WorkerLog log_;
  std::unique_ptr<PacketQueue> ownedQueue_;  // null when the queue is not ours
  PacketQueue& queue_;
  std::unique_ptr<Admitter> admitterPtr_;
  Admitter& admitter_;
  EventLog events_;
  core::Engine engine_;
  core::Actions actions_;
  HeldPool held_;
  std::vector<uint8_t> scratch_;  // rebuilt packet
  std::vector<PendingAdmit> pending_;
  uint64_t lastExpireNs_ = 0;
  LimitReport limits_;  // engine resource limits hit, logged once per expiry pass
  SessionStore store_;
  std::vector<uint8_t> snapshot_;                  // one encoded session snapshot
  std::unique_ptr<kernel::LocalAddresses> local_;  // with watchLocalAddresses
  BurstLog overrunBurst_;                          // ENOBUFS receives
  PolicyMailbox policy_;                           // a reloaded policy not yet taken by the engine
  WorkerMetrics metrics_;                          // read by the metrics thread
  VerdictTimer verdictTimer_{metrics_.latency};    // this round's verdicts, until sent
  uint64_t receivedNs_ = 0;                        // when the packet being served was received
  StatsSnapshot published_;                        // the engine's counters, once per round
  StatusMailbox status_;                           // the control socket's pending question
  RecentEvents recent_;                            // last events per session, for status
  std::unique_ptr<CtStatePublisher> labels_;       // conntrack_state = "labels" (pinhole mode)
};

}  // namespace ftpalg::daemon
