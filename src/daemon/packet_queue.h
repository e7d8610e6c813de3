// What a queue worker needs of its queue: packets in, verdicts out. Implemented by KernelQueue
// (an NFQUEUE socket) and, in the unit tests, by a fake that scripts packets and records
// verdicts.
#pragma once

#include <cerrno>
#include <cstdint>
#include <memory>
#include <span>

#include "ftpalg/kernel/queue_socket.h"
#include "ftpalg/status.h"

namespace ftpalg::daemon {

// A packet source and verdict sink with QueueSocket's contract (see queue_socket.h): views
// handed to the handler live only during its call; verdicts are batched until flush().
class PacketQueue {
 public:
  virtual ~PacketQueue() = default;

  virtual Status open() = 0;
  // Hands the packets of one datagram to `handler`; blocks for a while unless dontWait.
  virtual Status receive(bool dontWait, kernel::PacketHandler& handler,
                         kernel::ReceiveResult& result) = 0;
  // Appends a verdict; a non-empty `packet` replaces the queued bytes; `withCt` asks the kernel
  // to record a length change in the packet's conntrack seqadj.
  virtual Status verdict(uint32_t id, kernel::NfVerdict v, std::span<const uint8_t> packet,
                         bool withCt) = 0;
  // Sends the appended verdicts.
  virtual Status flush() = 0;
  // Messages the kernel could not deliver to the queue's socket so far (its sk_drops); read
  // once a second, off the packet path. 0 when the queue cannot tell.
  virtual uint64_t socketDrops() { return 0; }
};

// The NFQUEUE socket of one queue as a PacketQueue. With `conntrackOptional`, a kernel that
// refuses cfg.conntrack (EOPNOTSUPP: no NFQUEUE conntrack glue) gets the queue without it.
class KernelQueue final : public PacketQueue {
 public:
  explicit KernelQueue(const kernel::QueueConfig& cfg, bool conntrackOptional = false)
      : cfg_(cfg),
        conntrackOptional_(conntrackOptional),
        socket_(std::make_unique<kernel::QueueSocket>(cfg)) {}

  Status open() override {
    Status s = socket_->open();
    if (s.ok() || !conntrackOptional_ || !cfg_.conntrack || s.err() != EOPNOTSUPP) return s;
    cfg_.conntrack = false;
    socket_ = std::make_unique<kernel::QueueSocket>(cfg_);
    return socket_->open();
  }
  Status receive(bool dontWait, kernel::PacketHandler& handler,
                 kernel::ReceiveResult& result) override {
    return socket_->receive(dontWait, handler, result);
  }
  Status verdict(uint32_t id, kernel::NfVerdict v, std::span<const uint8_t> packet,
                 bool withCt) override {
    return socket_->verdict(id, v, packet, withCt);
  }
  Status flush() override { return socket_->flush(); }
  uint64_t socketDrops() override { return socket_->socketDrops(); }
  // Whether packets come with their conntrack entry (known after open()).
  [[nodiscard]] bool withConntrack() const { return cfg_.conntrack; }

 private:
  kernel::QueueConfig cfg_;
  bool conntrackOptional_;
  std::unique_ptr<kernel::QueueSocket> socket_;
};

}  // namespace ftpalg::daemon
