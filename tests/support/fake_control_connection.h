// Test support: one FTP control connection as a client and a server would send it, packet by
// packet into a FakeQueue, each packet served by the worker at once. Sequence and
// acknowledgement numbers follow the original (unrewritten) streams; each direction's
// addresses can be set apart (expectation mode sees both directions after NAT). Header-only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ftpalg/core/packet.h"
#include "tests/support/fake_queue.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

// Builds, queues and serves the packets of one control connection.
class FakeControlConnection {
 public:
  // `serve` lets the worker take what was queued (QueueWorker::serveOnce).
  FakeControlConnection(FakeQueue& queue, std::function<void()> serve)
      : queue_(queue), serve_(std::move(serve)) {}

  // Addresses of client -> server packets and of server -> client packets.
  void setAddresses(const core::Endpoint& c2sSrc, const core::Endpoint& c2sDst,
                    const core::Endpoint& s2cSrc, const core::Endpoint& s2cDst) {
    c2sSrc_ = c2sSrc;
    c2sDst_ = c2sDst;
    s2cSrc_ = s2cSrc;
    s2cDst_ = s2cDst;
  }
  void setAddresses(const core::Endpoint& client, const core::Endpoint& server) {
    setAddresses(client, server, server, client);
  }
  // The NFQA_CT nest sent with every packet from now on (empty: none).
  void setCt(std::vector<uint8_t> ct) { ct_ = std::move(ct); }

  // Queues one segment from `d` at its sender's next sequence number (or at `seq`, which
  // leaves the sender's position alone), serves it, and returns its packet id.
  uint32_t send(core::Dir d, std::string_view payload, uint8_t flags = core::TcpAck | core::TcpPsh,
                std::optional<uint32_t> seq = std::nullopt) {
    const bool c2s = d == core::Dir::C2S;
    uint32_t& next = c2s ? clientSeq_ : serverSeq_;
    std::vector<uint8_t> bytes = PacketBuilder()
                                     .v4(c2s ? c2sSrc_ : s2cSrc_, c2s ? c2sDst_ : s2cDst_)
                                     .seq(seq.value_or(next))
                                     .ack(c2s ? serverSeq_ : clientSeq_)
                                     .flags(flags)
                                     .payload(payload)
                                     .build();
    const uint32_t id = nextId_++;
    original_[id] = bytes;
    queue_.push(id, std::move(bytes), ct_);
    if (!seq) {
      next += static_cast<uint32_t>(payload.size()) +
              ((flags & (core::TcpSyn | core::TcpFin)) != 0 ? 1u : 0u);
    }
    serve_();
    return id;
  }
  // SYN, SYN-ACK, ACK and the server's greeting.
  void handshake() {
    send(core::Dir::C2S, "", core::TcpSyn);
    send(core::Dir::S2C, "", core::TcpSyn | core::TcpAck);
    send(core::Dir::C2S, "", core::TcpAck);
    send(core::Dir::S2C, "220 ready\r\n");
  }

  [[nodiscard]] uint32_t nextSeq(core::Dir d) const {
    return d == core::Dir::C2S ? clientSeq_ : serverSeq_;
  }
  // The bytes packet `id` was queued with.
  [[nodiscard]] const std::vector<uint8_t>& original(uint32_t id) { return original_[id]; }

 private:
  FakeQueue& queue_;
  std::function<void()> serve_;
  core::Endpoint c2sSrc_, c2sDst_, s2cSrc_, s2cDst_;
  std::vector<uint8_t> ct_;
  std::map<uint32_t, std::vector<uint8_t>> original_;
  uint32_t nextId_ = 1;
  uint32_t clientSeq_ = 1000;
  uint32_t serverSeq_ = 5000;
};

// The TCP payload of a packet ("<unparsable>" when it is none).
inline std::string tcpPayload(const std::vector<uint8_t>& packet) {
  const core::PacketParse pp = core::parsePacket(packet);
  if (pp.error != core::PacketError::None) return "<unparsable>";
  const auto* p = reinterpret_cast<const char*>(pp.view.payload.data());
  return std::string(p, pp.view.payload.size());
}

}  // namespace ftpalg::test
