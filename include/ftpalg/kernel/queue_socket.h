// NFQUEUE adapter (libmnl + libnetfilter_queue's nfq_nlmsg_* helpers): one netlink socket bound
// to one queue number. Receives queued packets and sends verdicts, batched.
//
// Receive: receive() reads one netlink datagram and hands every packet in it to a
// PacketHandler. Views in QueuedPacket point into the socket's receive buffer and stay valid
// only during the handler call.
// Verdicts: verdict() appends one NFQNL_MSG_VERDICT message (with an optional replacement
// packet) to an outgoing buffer; flush() sends all appended messages in one sendmsg. Individual
// verdict messages are used, never NFQNL_MSG_VERDICT_BATCH: held packets make the ids of one
// batch non-contiguous, and a batch verdict covers every id up to the one it names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ftpalg/defaults.h"
#include "ftpalg/status.h"

struct mnl_socket;

namespace ftpalg::kernel {

// How a queue is configured when it is bound.
struct QueueConfig {
  uint16_t queueNum = 0;
  uint32_t maxLen =
      defaults::kQueueMaxLen;  // packets the kernel queues before it drops (or, failOpen, accepts)
  bool failOpen = false;  // NFQA_CFG_F_FAIL_OPEN: accept instead of drop when the queue is full
  uint32_t rcvBufBytes = 8u << 20;  // SO_RCVBUFFORCE
  uint32_t receiveTimeoutMs = 200;  // SO_RCVTIMEO: a blocking receive returns after this long
  // NFQA_CFG_F_CONNTRACK: every packet comes with its conntrack entry (NFQA_CT). Expectation
  // mode; the kernel refuses it (EOPNOTSUPP) without the NFQUEUE conntrack glue.
  bool conntrack = false;
};

// One packet the kernel queued. The payload starts at the IP header.
struct QueuedPacket {
  uint32_t id = 0;
  uint16_t hwProtocol = 0;  // ETH_P_IP / ETH_P_IPV6, host byte order
  uint8_t hook = 0;
  uint32_t skbInfo = 0;  // NFQA_SKB_* bits
  std::span<const uint8_t> payload;
  std::span<const uint8_t> ct;  // NFQA_CT nest payload (conntrack attributes); empty without
  // The kernel has not computed the TCP checksum yet (NFQA_SKB_CSUMNOTREADY): the checksum field
  // holds a partial sum. Forwarding the packet unchanged is fine; a rewrite must recompute it.
  [[nodiscard]] bool checksumNotReady() const;
};

// Receiver of the packets of one datagram.
class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  virtual void onPacket(const QueuedPacket& packet) = 0;
};

// Counters of one socket (plain integers: the socket is used by one thread).
struct QueueSocketStats {
  uint64_t datagrams = 0;
  uint64_t packets = 0;
  uint64_t malformed = 0;      // netlink messages without the attributes a packet needs
  uint64_t verdictErrors = 0;  // error replies to verdicts (unknown id: already timed out)
  uint64_t sends = 0;          // sendmsg calls
  uint64_t verdicts = 0;
  uint64_t overruns = 0;  // ENOBUFS on receive: the socket buffer overflowed
};

// NF_ACCEPT / NF_DROP without pulling <linux/netfilter.h> into every includer.
enum class NfVerdict : uint32_t { Drop = 0, Accept = 1 };

// Outcome of one receive() call.
enum class ReceiveResult : uint8_t {
  Packets,      // a datagram was read (it may have held only verdict errors)
  Empty,        // nothing to read (EAGAIN, or the receive timeout expired)
  Overrun,      // ENOBUFS: the kernel dropped messages for this socket; keep reading
  Interrupted,  // EINTR
};

// One queue. Not thread-safe: one per queue thread.
class QueueSocket {
 public:
  explicit QueueSocket(QueueConfig cfg);
  ~QueueSocket();
  QueueSocket(const QueueSocket&) = delete;
  QueueSocket& operator=(const QueueSocket&) = delete;

  // Opens the socket and binds the queue: copy whole packets, NFQA_CFG_F_GSO, fail-open as
  // configured, queue length. EBUSY: another process has the queue.
  Status open();

  // Reads one datagram; blocks up to receiveTimeoutMs unless dontWait.
  Status receive(bool dontWait, PacketHandler& handler, ReceiveResult& result);

  // Appends a verdict for `id`. With a non-empty `packet` the kernel forwards those bytes
  // instead of the queued ones (NFQA_PAYLOAD). `withCt` adds an empty NFQA_CT nest: the kernel
  // then looks up the packet's conntrack entry and records a length change in seqadj (without
  // it a rewrite that changes the length desynchronises the connection). Flushes first when the
  // buffer is full.
  Status verdict(uint32_t id, NfVerdict v, std::span<const uint8_t> packet = {},
                 bool withCt = false);
  // Sends every appended verdict in one sendmsg.
  Status flush();
  [[nodiscard]] size_t pendingVerdicts() const { return pending_; }

  [[nodiscard]] const QueueSocketStats& stats() const { return stats_; }
  [[nodiscard]] uint16_t queueNum() const { return cfg_.queueNum; }
  // Messages the kernel could not put into this socket's receive buffer since it was opened
  // (sk_drops, SO_MEMINFO), counted whether or not ENOBUFS is reported; 0 when unknown.
  [[nodiscard]] uint64_t socketDrops() const;

 private:
  Status configure(std::span<char> msg, const char* what);

  QueueConfig cfg_;
  mnl_socket* nl_ = nullptr;
  uint32_t portId_ = 0;
  uint32_t seq_ = 0;
  std::vector<char> rx_;  // one datagram
  std::vector<char> tx_;  // concatenated verdict messages
  size_t txLen_ = 0;
  size_t pending_ = 0;
  QueueSocketStats stats_;
};

}  // namespace ftpalg::kernel
