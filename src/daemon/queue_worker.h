// One NFQUEUE queue and everything that serves it, driven by one thread: the queue socket, an
// Engine, a Conntrack socket (NAT bindings, liberal tracking) and a PinholeTable socket (admits).
// In expectation mode (cthelper) the queue carries each packet's conntrack entry instead: the
// NAT binding comes from its tuples, each admit becomes a conntrack expectation on that entry
// (ExpectationTable), the kernel adjusts sequence numbers itself (no liberal tracking), and
// every verdict with a new payload carries an NFQA_CT nest so the kernel records it in seqadj.
//
// Per packet: parse; not TCP control traffic -> accept; otherwise Engine::onSegment with the
// packet id as handle and CLOCK_MONOTONIC as time, then apply the Actions: events first (install
// pinholes, mark rewritten sessions liberal, write JSON and log lines), packet verdicts second.
// Verdicts of one receive batch leave in one sendmsg; the pinholes they depend on were added
// synchronously before.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "daemon/event_sink.h"
#include "daemon/held_pool.h"
#include "daemon/log.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/kernel/conntrack.h"
#include "ftpalg/kernel/expectation.h"
#include "ftpalg/kernel/pinhole.h"
#include "kernel/nfqueue/queue_socket.h"

#include <fmt/format.h>

namespace ftpalg::daemon {

// Counters of one worker: written by its thread only, read by the main thread (STATUS=).
struct WorkerStats {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> parseErrors{0};     // not an IP/TCP packet we can read: accepted
  std::atomic<uint64_t> nonControl{0};      // not on a control port: accepted
  std::atomic<uint64_t> rewritten{0};       // packets forwarded with new bytes
  std::atomic<uint64_t> dropped{0};         // NF_DROP verdicts
  std::atomic<uint64_t> admitted{0};        // pinholes installed
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> pinholeFailures{0};  // admit failed: announcement dropped (fail closed)
  std::atomic<uint64_t> noConntrack{0};      // expectation mode: packet without NFQA_CT
  // Expectation mode: outstanding expectations deleted when their control connection ended
  // (FIN both ways, RST, or idle expiry), and deletions that failed other than with ENOENT.
  std::atomic<uint64_t> expectationsRemoved{0};
  std::atomic<uint64_t> expectationRemoveFailures{0};
  std::atomic<uint64_t> liberalFailures{0};
  std::atomic<uint64_t> rebuildFailures{0};  // rewrite did not fit: packet dropped
  std::atomic<uint64_t> unknownHandles{0};   // engine named a packet we do not have
  std::atomic<uint64_t> poolFull{0};         // could not keep a held packet: dropped
  std::atomic<uint64_t> held{0};             // packets currently held
  std::atomic<uint64_t> sessions{0};         // engine sessions (refreshed once a second)
};

struct WorkerSettings {
  kernel::QueueConfig queue;
  core::EngineConfig engine;
  kernel::PinholeConfig pinhole;
  size_t heldCapacity = 4096;  // held packet copies per queue
  // Expectation mode: admits are conntrack expectations; queue.conntrack and
  // engine.kernelSeqAdjust must be set too.
  bool expectationMode = false;
};

// Expectation mode's NatResolver: the binding of the conntrack entry of the packet being
// handled (the engine asks from inside onSegment). clientInside = orig src, serverInside =
// orig dst, serverOutside = reply src, clientOutside = reply dst.
class CtEntryResolver : public core::NatResolver {
 public:
  void set(const kernel::CtEntry* ct) { ct_ = ct; }
  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;

 private:
  const kernel::CtEntry* ct_ = nullptr;
};

class QueueWorker : public kernel::PacketHandler {
 public:
  QueueWorker(const WorkerSettings& settings, EventSink& events);
  ~QueueWorker() override;
  QueueWorker(const QueueWorker&) = delete;
  QueueWorker& operator=(const QueueWorker&) = delete;

  // Opens the conntrack socket and binds the queue. Called before the thread starts, so that
  // startup errors reach main().
  kernel::Status open();
  // Serves the queue until `stop` is set, then drops every held packet (fail closed).
  void run(const std::atomic<bool>& stop);

  void onPacket(const kernel::QueuedPacket& packet) override;

  [[nodiscard]] const WorkerStats& stats() const { return stats_; }
  [[nodiscard]] uint16_t queueNum() const { return settings_.queue.queueNum; }

 private:
  // A pinhole that could not be installed. Until it is, packets of that flow and direction
  // carrying payload are dropped (the sender retransmits, and each retransmission retries).
  struct PendingAdmit {
    core::FlowKey flow;
    core::Dir dir = core::Dir::C2S;
    core::Expectation expect;
    uint64_t sinceNs = 0;
  };
  // Expectation mode: the expectations created on one control connection that may still be
  // outstanding (the newest maxExpectationsPerSession; the kernel evicts older ones itself),
  // deleted when the connection ends. Fixed capacity: no allocation per packet.
  static constexpr size_t kMaxTrackedPerFlow = 16;
  struct ExpectedFlow {
    core::FlowKey flow;
    uint64_t lastNs = 0;     // last packet of the connection
    uint64_t newestNs = 0;   // newest expectation created
    uint8_t finDirs = 0;     // bit 0: FIN seen client -> server, bit 1: server -> client
    uint8_t count = 0;       // valid entries of `expects`
    uint8_t next = 0;        // ring position of the next (overwriting the oldest when full)
    std::array<core::Expectation, kMaxTrackedPerFlow> expects{};
  };
  // A control connection already set to liberal TCP tracking.
  struct MarkedFlow {
    core::FlowKey flow;
    uint64_t lastNs = 0;
  };

  void apply(uint64_t nowNs, const kernel::QueuedPacket* current, const core::PacketView* view);
  // Returns false when the announcement's packet must be dropped (pinhole not installed).
  bool applyEvent(const core::Event& event, uint64_t nowNs);
  // Installs one expectation: a pinhole, or in expectation mode a conntrack expectation on the
  // current packet's entry (none: ENOENT).
  kernel::Status admit(const core::Expectation& x);
  void markLiberal(const core::FlowKey& flow, uint64_t nowNs);
  // Expectation mode: remembers an expectation created on `flow`.
  void rememberExpect(const core::FlowKey& flow, const core::Expectation& x, uint64_t nowNs);
  // Expectation mode: notes a packet of the control connection (FIN/RST end it: its
  // outstanding expectations are deleted).
  void trackEnd(const core::PacketView& view, uint64_t nowNs);
  // Deletes the outstanding expectations of expectedFlows_[i] and forgets the entry.
  void removeExpects(size_t i, const char* why, uint64_t nowNs);
  void unmark(const core::FlowKey& flow);
  bool retryPending(const core::FlowKey& flow, core::Dir dir, uint64_t nowNs);
  void logEvent(const core::Event& event, uint64_t nowNs);
  void verdict(uint32_t id, kernel::NfVerdict v, std::span<const uint8_t> packet = {});
  // Expectation mode: hands the engine a copy of `raw` whose addresses and ports are those of
  // the conntrack entry's original tuple (the kernel queues after NAT, so the two directions
  // otherwise show different address pairs). False when the packet fits neither direction.
  bool normalise(const core::PacketView& raw, core::PacketView& out) const;
  void flushBatch();
  void expire(uint64_t nowNs);
  [[nodiscard]] bool isControlPort(uint16_t port) const;
  template <typename... Args>
  void limited(RateLimit& rl, LogLevel level, uint64_t nowNs, fmt::format_string<Args...> f,
               Args&&... args);

  WorkerSettings settings_;
  EventSink& events_;
  kernel::QueueSocket socket_;
  kernel::Conntrack conntrack_;
  kernel::PinholeTable pinholes_;
  kernel::ExpectationTable expectations_;
  CtEntryResolver ctResolver_;
  kernel::CtEntry currentCt_;
  bool hasCurrentCt_ = false;
  core::Engine engine_;
  core::Actions actions_;
  HeldPool held_;
  std::vector<uint8_t> scratch_;  // rebuilt packet
  fmt::memory_buffer json_;       // event lines of the current batch
  std::vector<PendingAdmit> pending_;
  std::vector<MarkedFlow> marked_;
  std::vector<ExpectedFlow> expectedFlows_;  // reserved at construction (expectation mode)
  size_t expectsPerFlow_ = 0;
  int64_t realtimeOffsetNs_ = 0;  // CLOCK_REALTIME - CLOCK_MONOTONIC, for event timestamps
  WorkerStats stats_;
  RateLimit parseLog_;
  RateLimit admitLog_{50};
  RateLimit refuseLog_;
  RateLimit anomalyLog_;
  RateLimit errorLog_;
  RateLimit removeLog_;
};

}  // namespace ftpalg::daemon
