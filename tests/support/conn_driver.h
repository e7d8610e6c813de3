// Test support: hand-built segments of many control connections through one core::Engine (the
// engine_harness drives one simulated connection; this one many, without TCP simulation). It
// keeps every event, the payload of every rewritten packet and which packets are held.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

// Every client is behind SNAT: its private address leaves as 198.51.100.7.
class SnatEveryone : public core::NatResolver {
 public:
  bool resolve(const core::FlowKey& flow, core::NatBinding& out) override {
    out = core::NatBinding{flow.client.addr, ipFromText("198.51.100.7"), flow.server.addr,
                           flow.server.addr};
    return true;
  }
};

// One control connection; next seq of the client (C2S) and the server (S2C).
struct Conn {
  core::Endpoint client;
  core::Endpoint server;
  uint32_t seq[2] = {1000, 5000};
};

// Feeds segments of many connections to one engine.
class ConnDriver {
 public:
  explicit ConnDriver(const core::EngineConfig& cfg, core::NatResolver* nat = nullptr)
      : engine(cfg, nat), out(std::make_unique<core::Actions>()) {}

  // Sends one segment; returns the verdict its own packet got (Hold while held).
  core::PacketVerdict send(const Conn& c, core::Dir d, uint8_t flags, std::string_view payload) {
    const bool c2s = d == core::Dir::C2S;
    const auto pkt = PacketBuilder()
                         .v4(c2s ? c.client : c.server, c2s ? c.server : c.client)
                         .seq(c.seq[c2s ? 0 : 1])
                         .ack(c.seq[c2s ? 1 : 0])
                         .flags(flags)
                         .payload(payload)
                         .build();
    const core::PacketParse pp = core::parsePacket(pkt);
    EXPECT_EQ(pp.error, core::PacketError::None);
    const uint64_t h = nextHandle_++;
    out->clear();
    engine.onSegment(core::Segment{&pp.view, h}, now, *out);
    core::PacketVerdict mine = core::PacketVerdict::Accept;
    bool seen = false;
    for (size_t i = 0; i < out->packetCount; ++i) {
      if (out->packets[i].handle == h) {
        mine = out->packets[i].verdict;
        seen = true;
      }
    }
    EXPECT_TRUE(seen) << "no verdict for packet " << h;
    take();
    return mine;
  }
  // SYN, SYN/ACK, ACK.
  void handshake(Conn& c) {
    send(c, core::Dir::C2S, core::TcpSyn, "");
    ++c.seq[0];
    send(c, core::Dir::S2C, core::TcpSyn | core::TcpAck, "");
    ++c.seq[1];
    send(c, core::Dir::C2S, core::TcpAck, "");
  }
  // Data from `d`, its sequence number advanced.
  core::PacketVerdict say(Conn& c, core::Dir d, std::string_view text) {
    const core::PacketVerdict v = send(c, d, core::TcpAck | core::TcpPsh, text);
    c.seq[d == core::Dir::C2S ? 0 : 1] += static_cast<uint32_t>(text.size());
    return v;
  }
  // Handshake, greeting and login.
  void login(Conn& c) {
    handshake(c);
    EXPECT_NE(say(c, core::Dir::S2C, "220 hi\r\n"), core::PacketVerdict::Drop);
    say(c, core::Dir::C2S, "USER u\r\n");
    say(c, core::Dir::S2C, "331 pw\r\n");
    say(c, core::Dir::C2S, "PASS p\r\n");
    say(c, core::Dir::S2C, "230 in\r\n");
  }
  void expire() {
    bool more = true;
    while (more) {
      out->clear();
      more = engine.expire(now, *out);
      take();
    }
  }
  [[nodiscard]] std::vector<core::Event> of(core::EventKind k) const {
    std::vector<core::Event> r;
    for (const core::Event& e : events) {
      if (e.kind == k) r.push_back(e);
    }
    return r;
  }
  [[nodiscard]] size_t heldNow() const { return held_.size(); }

  core::Engine engine;
  std::unique_ptr<core::Actions> out;
  std::vector<core::Event> events;
  std::vector<std::string> rewrittenPayloads;
  uint64_t now = 1'000'000'000'000;
  size_t maxHeld = 0;

 private:
  void take() {
    for (size_t i = 0; i < out->packetCount; ++i) {
      const core::PacketAction& a = out->packets[i];
      if (a.verdict == core::PacketVerdict::Hold) {
        held_.insert(a.handle);
      } else {
        held_.erase(a.handle);
      }
      if (a.verdict == core::PacketVerdict::Rewrite) {
        rewrittenPayloads.emplace_back(reinterpret_cast<const char*>(a.payload.data()),
                                       a.payload.size());
      }
    }
    maxHeld = std::max(maxHeld, held_.size());
    for (size_t i = 0; i < out->eventCount; ++i) events.push_back(out->events[i]);
  }
  uint64_t nextHandle_ = 1;
  std::set<uint64_t> held_;
};

// The SnatEveryone a SnatConnDriver owns, a base so that it exists before the engine.
struct SnatEveryoneHolder {
  SnatEveryone nat;
};

// A ConnDriver with every client behind SNAT (its own SnatEveryone).
class SnatConnDriver : private SnatEveryoneHolder, public ConnDriver {
 public:
  explicit SnatConnDriver(const core::EngineConfig& cfg) : ConnDriver(cfg, &nat) {}
};

}  // namespace ftpalg::test
