// Test support: drives a core::Engine with a simulated TCP connection between a client and a
// server, applies its verdicts exactly as an adapter would (holding packets, rebuilding
// rewritten ones) and reassembles what each receiver gets, checking that every delivered packet
// has a valid checksum and that overlapping deliveries agree byte for byte.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"

namespace ftpalg::test {

// NAT bindings handed to the engine for every new session.
class StaticNat : public core::NatResolver {
 public:
  core::NatBinding binding;
  bool enabled = false;
  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override;
};

// One simulated control connection through the engine.
class EngineHarness {
 public:
  struct Options {
    bool v6 = false;
    uint32_t clientIsn = 1000;
    uint32_t serverIsn = 5000;
    uint16_t clientMss = 1460;
    uint16_t serverMss = 1460;
    bool autoAck = true;  // the receiver acknowledges every delivered packet at once
    // As the queue rules' ACK bypass: pure acknowledgements (no payload, no SYN/FIN/RST) pass
    // straight to the receiver, unseen by the engine, until an Actions says streamShifted;
    // from then on every packet goes through the engine (queue everything).
    bool bypassPureAcks = false;
  };

  explicit EngineHarness(const core::EngineConfig& cfg, Options opt);
  EngineHarness(const core::EngineConfig& cfg) : EngineHarness(cfg, Options{}) {}

  void setNat(const core::NatBinding& b) {
    nat_.binding = b;
    nat_.enabled = true;
  }
  core::Endpoint client() const { return client_; }
  core::Endpoint server() const { return server_; }

  void handshake();
  // Sends `bytes` from `d` cut into segments at the given sizes (the last size repeats).
  void send(core::Dir d, std::string_view bytes, std::vector<size_t> sizes = {});
  // Sends one raw segment at an explicit original sequence number (retransmissions, gaps).
  void sendAt(core::Dir d, uint32_t seq, std::string_view bytes, uint8_t flags = 0x18,
              const std::vector<core::SackBlock>& sack = {});
  // The receiver of direction `d` acknowledges everything it has in order.
  void ackFrom(core::Dir receiverOf);
  void fin(core::Dir d);

  // What the receiver of direction d got, reassembled in order (rewritten stream).
  std::string delivered(core::Dir d) const;
  // Next original sequence number the sender of d would use.
  uint32_t sndNext(core::Dir d) const { return snd_[static_cast<size_t>(d)]; }
  // Last acknowledgement number delivered to the sender of d (in its original space).
  uint32_t lastAckTo(core::Dir d) const { return lastAckTo_[static_cast<size_t>(d)]; }
  const std::vector<core::SackBlock>& lastSackTo(core::Dir d) const {
    return lastSackTo_[static_cast<size_t>(d)];
  }

  std::vector<core::Event> events;
  // Every packet action, in order. Their payload views point into packets the harness frees
  // once the call that produced them returns: read `wire` for what was sent.
  std::vector<core::PacketAction> actions;
  std::vector<std::string> wire;  // the payload of every packet delivered, in order (copies)
  size_t heldNow() const { return held_.size(); }
  size_t drops = 0;
  size_t badChecksums = 0;
  size_t segmentsSeen = 0;  // segments handed to the engine
  size_t bypassedAcks = 0;  // pure acknowledgements that did not reach it (bypassPureAcks)
  bool shifted = false;     // an Actions said streamShifted
  // Packets delivered with numbers or a length other than their original ones before any
  // Actions said streamShifted: with the ACK bypass their peer's acknowledgements would pass
  // unadjusted. Must stay 0.
  size_t shiftedBeforeSwitch = 0;
  size_t inconsistentOverlaps = 0;
  std::vector<core::StateChange> states;  // every Actions::states entry, in order
  core::Engine& engine() { return *active_; }
  // `successor` serves the connection from here on, as a new daemon process does: what the
  // old engine held is gone (the kernel drops a dead queue's packets; the senders retransmit).
  void switchEngine(core::Engine& successor) {
    active_ = &successor;
    held_.clear();
  }
  uint64_t nowNs = 1'000'000'000;

 private:
  void transmit(core::Dir d, uint32_t seq, uint32_t ack, uint8_t flags, std::string_view data,
                const std::vector<core::SackBlock>& sack, uint16_t mss);
  void apply(const core::Actions& acts);
  // Acknowledgement the receiver of `stream` would send now (rewritten space).
  uint32_t rcvAck(core::Dir stream) const;
  void deliver(const std::vector<uint8_t>& pkt);

  StaticNat nat_;
  core::Engine engine_;
  core::Engine* active_ = &engine_;
  Options opt_;
  core::Endpoint client_;
  core::Endpoint server_;
  uint32_t snd_[2] = {0, 0};      // next original seq per direction
  uint32_t rcvBase_[2] = {0, 0};  // rewritten ISN+1 per direction, as the receiver learned it
  bool rcvKnown_[2] = {false, false};
  std::map<uint32_t, char> rcvBytes_[2];  // offset from rcvBase -> byte
  uint32_t lastAckTo_[2] = {0, 0};
  std::vector<core::SackBlock> lastSackTo_[2];
  uint64_t nextHandle_ = 1;
  std::map<uint64_t, std::vector<uint8_t>> held_;
  std::map<uint64_t, std::vector<uint8_t>> inFlight_;  // handle -> packet, for this call
};

}  // namespace ftpalg::test
