#include "tests/support/engine_harness.h"

#include <algorithm>
#include <cstdlib>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using core::Dir;

bool StaticNat::resolve(const core::FlowKey&, core::NatBinding& out) {
  if (!enabled) return false;
  out = binding;
  return true;
}

EngineHarness::EngineHarness(const core::EngineConfig& cfg, Options opt)
    : engine_(cfg, &nat_), opt_(opt) {
  if (opt.v6) {
    client_ = endpoint("2001:db8:1::2", 40000);
    server_ = endpoint("2001:db8:2::2", 21);
  } else {
    client_ = endpoint("198.18.0.2", 40000);
    server_ = endpoint("198.19.0.2", 21);
  }
  snd_[0] = opt.clientIsn;
  snd_[1] = opt.serverIsn;
}

void EngineHarness::handshake() {
  transmit(Dir::C2S, snd_[0], 0, core::TcpSyn, {}, {}, opt_.clientMss);
  snd_[0] += 1;
  transmit(Dir::S2C, snd_[1], snd_[0], core::TcpSyn | core::TcpAck, {}, {}, opt_.serverMss);
  snd_[1] += 1;
  transmit(Dir::C2S, snd_[0], snd_[1], core::TcpAck, {}, {}, 0);
}

void EngineHarness::send(Dir d, std::string_view bytes, std::vector<size_t> sizes) {
  if (sizes.empty()) sizes.push_back(bytes.size() == 0 ? 1 : bytes.size());
  size_t pos = 0;
  size_t i = 0;
  while (pos < bytes.size()) {
    const size_t want = std::max<size_t>(1, sizes[std::min(i, sizes.size() - 1)]);
    const size_t n = std::min(want, bytes.size() - pos);
    sendAt(d, snd_[static_cast<size_t>(d)], bytes.substr(pos, n));
    pos += n;
    ++i;
  }
}

void EngineHarness::sendAt(Dir d, uint32_t seq, std::string_view bytes, uint8_t flags,
                           const std::vector<core::SackBlock>& sack) {
  const auto di = static_cast<size_t>(d);
  transmit(d, seq, rcvAck(core::opposite(d)), flags, bytes, sack, 0);
  const uint32_t end = seq + static_cast<uint32_t>(bytes.size());
  if (static_cast<int32_t>(end - snd_[di]) > 0) snd_[di] = end;
  if (opt_.autoAck) ackFrom(d);
}

void EngineHarness::fin(Dir d) {
  const auto di = static_cast<size_t>(d);
  transmit(d, snd_[di], rcvAck(core::opposite(d)), core::TcpFin | core::TcpAck, {}, {}, 0);
  snd_[di] += 1;
}

uint32_t EngineHarness::rcvAck(Dir stream) const {
  const auto r = static_cast<size_t>(stream);
  if (!rcvKnown_[r]) return 0;
  uint32_t n = 0;
  while (rcvBytes_[r].count(n) != 0) ++n;
  return rcvBase_[r] + n;
}

void EngineHarness::ackFrom(Dir receiverOf) {
  if (!rcvKnown_[static_cast<size_t>(receiverOf)]) return;
  const Dir sender = core::opposite(receiverOf);
  transmit(sender, snd_[static_cast<size_t>(sender)], rcvAck(receiverOf), core::TcpAck, {}, {}, 0);
}

std::string EngineHarness::delivered(Dir d) const {
  const auto r = static_cast<size_t>(d);
  std::string out;
  uint32_t n = 0;
  for (auto it = rcvBytes_[r].find(0); it != rcvBytes_[r].end() && it->first == n; ++it, ++n) {
    out.push_back(it->second);
  }
  return out;
}

void EngineHarness::transmit(Dir d, uint32_t seq, uint32_t ack, uint8_t flags,
                             std::string_view data, const std::vector<core::SackBlock>& sack,
                             uint16_t mss) {
  PacketBuilder pb;
  if (opt_.v6) {
    d == Dir::C2S ? pb.v6(client_, server_) : pb.v6(server_, client_);
  } else {
    d == Dir::C2S ? pb.v4(client_, server_) : pb.v4(server_, client_);
  }
  pb.seq(seq).ack(ack).flags(flags);
  if (mss != 0) pb.mss(mss);
  if (!sack.empty()) pb.nop(2).sack(std::span<const core::SackBlock>(sack));
  pb.payload(data);
  std::vector<uint8_t> pkt = pb.build();
  const bool pureAck = data.empty() && (flags & (core::TcpSyn | core::TcpFin | core::TcpRst)) == 0;
  if (opt_.bypassPureAcks && pureAck && !shifted) {
    ++bypassedAcks;
    deliver(pkt);
    return;
  }
  ++segmentsSeen;
  const uint64_t h = nextHandle_++;
  inFlight_[h] = pkt;
  const core::PacketParse pp = core::parsePacket(inFlight_[h]);
  if (pp.error != core::PacketError::None) std::abort();
  core::Actions acts;
  nowNs += 1000;
  active_->onSegment(core::Segment{&pp.view, h}, nowNs, acts);
  apply(acts);
  inFlight_.erase(h);
}

void EngineHarness::apply(const core::Actions& acts) {
  // The adapter switches the session to queue everything before any verdict of this call.
  if (acts.streamShifted) shifted = true;
  for (size_t i = 0; i < acts.eventCount; ++i) events.push_back(acts.events[i]);
  for (size_t i = 0; i < acts.stateCount; ++i) states.push_back(acts.states[i]);
  for (size_t i = 0; i < acts.packetCount; ++i) {
    const core::PacketAction& a = acts.packets[i];
    actions.push_back(a);
    std::vector<uint8_t> pkt;
    if (auto it = inFlight_.find(a.handle); it != inFlight_.end()) {
      pkt = it->second;
    } else if (auto ht = held_.find(a.handle); ht != held_.end()) {
      pkt = ht->second;
      held_.erase(ht);
    } else {
      std::abort();  // the engine named a packet it was never given or already released
    }
    switch (a.verdict) {
      case core::PacketVerdict::Accept:
        deliver(pkt);
        break;
      case core::PacketVerdict::Hold:
        held_[a.handle] = pkt;
        break;
      case core::PacketVerdict::Drop:
        ++drops;
        break;
      case core::PacketVerdict::Rewrite: {
        const core::PacketParse pp = core::parsePacket(pkt);
        if (!shifted && (a.seq != pp.view.seq || a.ack != pp.view.ack ||
                         a.payload.size() != pp.view.payload.size())) {
          ++shiftedBeforeSwitch;
        }
        std::vector<uint8_t> outBuf(pkt.size() + a.payload.size() + 64);
        const size_t n = core::rebuildPacket(
            pkt, pp.view, a.seq, a.ack,
            std::span<const core::SackBlock>(a.sack.data(), a.sackCount), a.payload, outBuf);
        if (n == 0) std::abort();
        outBuf.resize(n);
        deliver(outBuf);
        break;
      }
    }
  }
}

void EngineHarness::deliver(const std::vector<uint8_t>& pkt) {
  const core::PacketParse pp = core::parsePacket(pkt);
  if (pp.error != core::PacketError::None) std::abort();
  const core::PacketView& v = pp.view;
  if (!core::tcpChecksumValid(pkt, v)) ++badChecksums;
  const Dir d = v.dport == server_.port ? Dir::C2S : Dir::S2C;
  const auto di = static_cast<size_t>(d);
  const auto other = static_cast<size_t>(core::opposite(d));
  if (!v.payload.empty()) wire.emplace_back(v.payload.begin(), v.payload.end());
  if ((v.flags & core::TcpSyn) != 0) {
    rcvBase_[di] = v.seq + 1;
    rcvKnown_[di] = true;
  }
  if ((v.flags & core::TcpAck) != 0) {
    lastAckTo_[other] = v.ack;
    lastSackTo_[other].assign(v.sack.begin(), v.sack.begin() + v.sackCount);
  }
  if (!rcvKnown_[di]) return;
  for (size_t i = 0; i < v.payload.size(); ++i) {
    const uint32_t off = v.seq + static_cast<uint32_t>(i) - rcvBase_[di];
    const char c = static_cast<char>(v.payload[i]);
    auto [it, inserted] = rcvBytes_[di].emplace(off, c);
    if (!inserted && it->second != c) ++inconsistentOverlaps;
  }
}

}  // namespace ftpalg::test
