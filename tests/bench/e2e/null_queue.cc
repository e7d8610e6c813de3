// ftpalg_null_queue: the benchmark's null NFQUEUE consumer. It binds the given queues with the
// daemon's own adapter (kernel::QueueSocket: libmnl, batched receive, verdicts sent together)
// and the daemon's loop shape (one blocking receive, then up to 64 more without blocking, one
// flush), and accepts every packet unseen: what a queue costs before any inspection.
//
// usage: ftpalg_null_queue QUEUE... (runs until SIGTERM/SIGINT; prints "serving queue..." once
// bound and "stopped: N packets, D datagrams, S sends" at exit)
#include <signal.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "ftpalg/kernel/queue_socket.h"

namespace {

using ftpalg::kernel::NfVerdict;
using ftpalg::kernel::QueueConfig;
using ftpalg::kernel::QueuedPacket;
using ftpalg::kernel::QueueSocket;
using ftpalg::kernel::ReceiveResult;

constexpr size_t kMaxBatch = 64;  // as the daemon's queue worker

std::atomic<bool> g_stop{false};

void onSignal(int /*sig*/) { g_stop.store(true); }

// Accepts every packet of a datagram (the verdicts go out at the next flush).
class AcceptAll final : public ftpalg::kernel::PacketHandler {
 public:
  explicit AcceptAll(QueueSocket& q) : q_(q) {}
  void onPacket(const QueuedPacket& p) override {
    if (!q_.verdict(p.id, NfVerdict::Accept).ok()) ++errors_;
  }
  uint64_t errors_ = 0;

 private:
  QueueSocket& q_;
};

// One queue's loop: the daemon's serveOnce without the engine.
void serve(QueueSocket& q) {
  AcceptAll handler(q);
  while (!g_stop.load(std::memory_order_relaxed)) {
    ReceiveResult r = ReceiveResult::Empty;
    ftpalg::Status s = q.receive(false, handler, r);
    size_t batch = 1;
    while (s.ok() && (r == ReceiveResult::Packets || r == ReceiveResult::Overrun) &&
           batch < kMaxBatch) {
      s = q.receive(true, handler, r);
      ++batch;
    }
    if (!q.flush().ok()) ++handler.errors_;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s QUEUE...\n", argv[0]);
    return 2;
  }
  std::vector<std::unique_ptr<QueueSocket>> queues;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg(argv[i]);
    uint16_t num = 0;
    auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), num);
    if (ec != std::errc() || end != arg.data() + arg.size()) {
      std::fprintf(stderr, "bad queue number %s\n", argv[i]);
      return 2;
    }
    QueueConfig cfg;
    cfg.queueNum = num;
    auto q = std::make_unique<QueueSocket>(cfg);
    if (ftpalg::Status s = q->open(); !s.ok()) {
      std::fprintf(stderr, "queue %u: %s\n", num, s.message().c_str());
      return 1;
    }
    queues.push_back(std::move(q));
  }
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::fprintf(stderr, "serving queue%s", queues.size() > 1 ? "s" : "");
  for (int i = 1; i < argc; ++i) std::fprintf(stderr, " %s", argv[i]);
  std::fprintf(stderr, "\n");
  std::vector<std::thread> threads;
  for (auto& q : queues) threads.emplace_back([&q] { serve(*q); });
  for (auto& t : threads) t.join();
  uint64_t packets = 0, datagrams = 0, sends = 0;
  for (const auto& q : queues) {
    packets += q->stats().packets;
    datagrams += q->stats().datagrams;
    sends += q->stats().sends;
  }
  std::fprintf(stderr, "stopped: %llu packets, %llu datagrams, %llu sends\n",
               static_cast<unsigned long long>(packets), static_cast<unsigned long long>(datagrams),
               static_cast<unsigned long long>(sends));
  return 0;
}
