// Test support: a PacketQueue without a kernel. Tests push packets (bytes, optionally an
// NFQA_CT nest); each receive() hands over one of them, like a datagram with one packet; every
// verdict is recorded with a copy of its replacement bytes, and flush() moves the batch to
// `sent`. Failures of any call can be injected. Header-only: it needs the daemon library,
// which only the unit test binary links.
#pragma once

#include <cerrno>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "daemon/packet_queue.h"

namespace ftpalg::test {

// Scripted packets in, recorded verdicts out.
class FakeQueue final : public daemon::PacketQueue {
 public:
  // One verdict as the kernel would get it.
  struct Sent {
    uint32_t id = 0;
    kernel::NfVerdict verdict = kernel::NfVerdict::Accept;
    std::vector<uint8_t> payload;  // replacement packet; empty: the queued bytes unchanged
    bool withCt = false;
  };

  // Queues a packet for the next receive().
  void push(uint32_t id, std::vector<uint8_t> bytes, std::vector<uint8_t> ct = {}) {
    inbox_.push_back(Queued{id, std::move(bytes), std::move(ct)});
  }
  [[nodiscard]] size_t waiting() const { return inbox_.size(); }

  Status open() override {
    opened = true;
    return openStatus;
  }
  Status receive(bool dontWait, kernel::PacketHandler& handler,
                 kernel::ReceiveResult& result) override {
    ++receives;
    if (!dontWait) ++blockingReceives;
    if (receiveFailures > 0) {
      --receiveFailures;
      result = kernel::ReceiveResult::Empty;
      return Status::error(EIO, "fake: receive");
    }
    if (overruns > 0) {
      --overruns;
      result = kernel::ReceiveResult::Overrun;
      return {};
    }
    if (inbox_.empty()) {
      result = kernel::ReceiveResult::Empty;
      return {};
    }
    // The view must stay valid during the call only: keep the bytes here until it returns.
    current_ = std::move(inbox_.front());
    inbox_.pop_front();
    kernel::QueuedPacket p;
    p.id = current_.id;
    p.payload = current_.bytes;
    p.ct = current_.ct;
    handler.onPacket(p);
    result = kernel::ReceiveResult::Packets;
    return {};
  }
  Status verdict(uint32_t id, kernel::NfVerdict v, std::span<const uint8_t> packet,
                 bool withCt) override {
    if (verdictFailures > 0) {
      --verdictFailures;
      return Status::error(ENOBUFS, "fake: verdict");
    }
    batch_.push_back(Sent{id, v, std::vector<uint8_t>(packet.begin(), packet.end()), withCt});
    return {};
  }
  Status flush() override {
    ++flushes;
    if (flushFailures > 0) {
      --flushFailures;
      batch_.clear();
      return Status::error(EPERM, "fake: flush");
    }
    sent.insert(sent.end(), batch_.begin(), batch_.end());
    batch_.clear();
    return {};
  }

  // Verdicts appended to the batch and not flushed yet.
  [[nodiscard]] size_t pendingVerdicts() const { return batch_.size(); }

  // Verdicts of `id` sent so far.
  [[nodiscard]] std::vector<Sent> verdictsFor(uint32_t id) const {
    std::vector<Sent> out;
    for (const Sent& s : sent) {
      if (s.id == id) out.push_back(s);
    }
    return out;
  }

  std::vector<Sent> sent;  // flushed verdicts, in order
  Status openStatus;
  bool opened = false;
  int receives = 0;
  int blockingReceives = 0;
  int flushes = 0;
  int receiveFailures = 0;  // the next n receive() calls fail
  int verdictFailures = 0;  // the next n verdict() calls fail
  int flushFailures = 0;    // the next n flush() calls fail (their batch is lost)
  int overruns = 0;         // the next n receive() calls report ENOBUFS (ReceiveResult::Overrun)

 private:
  struct Queued {
    uint32_t id = 0;
    std::vector<uint8_t> bytes;
    std::vector<uint8_t> ct;
  };
  std::deque<Queued> inbox_;
  Queued current_;
  std::vector<Sent> batch_;
};

}  // namespace ftpalg::test
