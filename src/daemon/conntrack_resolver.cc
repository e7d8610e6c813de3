#include "daemon/conntrack_resolver.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "daemon/clock.h"
#include "daemon/ct_state_record.h"
#include "daemon/ct_state_takeover.h"
#include "daemon/log.h"
#include "daemon/text.h"

namespace ftpalg::daemon {

void ConntrackResolver::setPacket(std::span<const uint8_t> ct, core::Family family) {
  ct_ = ct;
  family_ = family;
  parsed_ = false;
  valid_ = false;
}

void ConntrackResolver::clearPacket() { setPacket({}, core::Family::None); }

const kernel::PacketCt* ConntrackResolver::packetEntry(const core::FlowKey& flow) {
  if (!parsed_) {
    parsed_ = true;
    valid_ = !ct_.empty() && kernel::parsePacketCt(ct_, family_, entry_);
  }
  // At the forward hook the original source is the client, the reply source the server.
  if (!valid_ || !(entry_.entry.orig.src == flow.client) ||
      !(entry_.entry.reply.src == flow.server)) {
    return nullptr;
  }
  return &entry_;
}

size_t ConntrackResolver::slotOf(const core::FlowKey& flow) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const core::Endpoint& e) {
    for (uint8_t b : e.addr.bytes) h = (h ^ b) * 1099511628211ULL;
    h = (h ^ e.port) * 1099511628211ULL;
  };
  mix(flow.client);
  mix(flow.server);
  return static_cast<size_t>(h % kScanSlots);
}

std::vector<core::IpAddr> ConntrackResolver::gatewayAddresses() {
  std::vector<core::IpAddr> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (i->ifa_addr == nullptr) continue;
    core::IpAddr a;
    if (i->ifa_addr->sa_family == AF_INET) {
      sockaddr_in sin{};
      std::memcpy(&sin, i->ifa_addr, sizeof sin);
      std::memcpy(a.bytes.data(), &sin.sin_addr, 4);
      a.family = core::Family::V4;
      if (a.bytes[0] == 127) continue;
    } else if (i->ifa_addr->sa_family == AF_INET6) {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, i->ifa_addr, sizeof sin6);
      std::memcpy(a.bytes.data(), &sin6.sin6_addr, 16);
      a.family = core::Family::V6;
      if (IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr) || IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr)) continue;
    } else {
      continue;
    }
    out.push_back(a);
  }
  freeifaddrs(list);
  return out;
}

void ConntrackResolver::remember(const core::FlowKey& flow, const kernel::CtTuple& orig) {
  if (scanned_.empty()) scanned_.resize(kScanSlots);  // once, on the first use
  scanned_[slotOf(flow)] = ScannedFlow{flow, orig};
}

kernel::NatLookupResult ConntrackResolver::lookupDialledLocal(const core::FlowKey& flow,
                                                              core::NatBinding& out) {
  const uint64_t now = monotonicNs();
  if (!localKnown_ || now - localAtNs_ >= kLocalRefreshNs) {
    localCache_ = locals_ ? locals_() : std::vector<core::IpAddr>{};
    localAtNs_ = now;
    localKnown_ = true;
  }
  for (const core::IpAddr& a : localCache_) {
    if (a.family != flow.client.addr.family || a == flow.server.addr) continue;
    const kernel::CtTuple orig{flow.client, core::Endpoint{a, flow.server.port}};
    core::NatBinding b;
    kernel::NatLookupResult r = conntrack_.lookupNat(orig, b);
    // The entry must be this flow's: the dialled address DNATed to the flow's server.
    if (r.outcome == kernel::NatLookup::Natted && b.serverOutside == flow.server.addr) {
      out = b;
      r.orig = orig;
      remember(flow, orig);
      return r;
    }
  }
  return kernel::NatLookupResult{
      kernel::NatLookup::Failed, Status::error(ENOENT, "no entry dialled to a local address"), {}};
}

kernel::CtTuple ConntrackResolver::originalTuple(const core::FlowKey& flow) {
  if (const kernel::PacketCt* p = packetEntry(flow)) return p->entry.orig;
  if (!scanned_.empty() && scanned_[slotOf(flow)].flow == flow) return scanned_[slotOf(flow)].orig;
  return kernel::CtTuple{flow.client, flow.server};
}

bool ConntrackResolver::resolve(const core::FlowKey& flow, core::NatBinding& out) {
  // A confirmed entry has both NATs decided: the answer is in the packet.
  const kernel::PacketCt* p = packetEntry(flow);
  if (p != nullptr && p->confirmed && !labels_) return kernel::ctEntryBinding(p->entry, out);
  kernel::CtTuple hinted;
  if (labels_ && takeoverTuple(flow, hinted)) remember(flow, hinted);  // a takeover found it
  kernel::NatLookupResult r = conntrack_.lookupNat(originalTuple(flow), out);
  if (r.outcome == kernel::NatLookup::Failed && r.status.err() == ENOENT && ct_.empty()) {
    // No NFQA_CT: the GET knew no DNATed original destination. A port published on one of
    // the gateway's addresses costs a few more GETs; anything else a rationed scan.
    r = lookupDialledLocal(flow, out);
  }
  if (r.outcome == kernel::NatLookup::Failed && r.status.err() == ENOENT && ct_.empty()) {
    const uint64_t now = monotonicNs();
    const auto elapsed = static_cast<int64_t>(now - std::min(now, scanCreditAtNs_));
    scanCreditAtNs_ = now;
    scanCreditNs_ = std::min(kScanBurstNs, scanCreditNs_ + elapsed / kScanShare);
    if (scanCreditNs_ > 0) {
      r = conntrack_.scanNat(flow, out);
      scanCreditNs_ -= static_cast<int64_t>(monotonicNs() - now);
      if (r.outcome != kernel::NatLookup::Failed) remember(flow, r.orig);
    } else {
      r.status = Status::error(EBUSY, "conntrack scan budget spent (no NFQA_CT on this queue)");
    }
  }
  if (labels_ && r.outcome != kernel::NatLookup::Failed) adoptLabels(flow, r, out);
  if (r.outcome == kernel::NatLookup::Failed) {
    (void)log_.fail(Failure::NatLookupFailed, monotonicNs(),
                    "NAT lookup for flow {} failed: {}; serving it as without NAT", flowText(flow),
                    r.status.message());
  }
  return r.outcome == kernel::NatLookup::Natted;
}

void ConntrackResolver::adoptLabels(const core::FlowKey& flow, const kernel::NatLookupResult& r,
                                    core::NatBinding& out) {
  CtStateRecord rec;
  if (decodeStateRecord(conntrack_.lastLabels(), labelBit_, rec) != RecordError::None) return;
  // The engine takes these only for a session it meets mid-stream (a predecessor's or the
  // other gateway's): a session seen from its SYN starts at zero whatever the labels say.
  out.priorDelta = rec.delta;
  if (rec.delta[0] == 0 && rec.delta[1] == 0) return;
  bump(log_.stats().labelOffsetsRead);
  // The adopting gateway must queue every packet of a shifted session (the session mark, which
  // conntrackd syncs too, may be missing) and track it liberally.
  if (Status s = conntrack_.setLiberal(r.orig); !s.ok()) {
    (void)log_.fail(Failure::LiberalFailed, monotonicNs(), "liberal tracking for {}: {}",
                    flowText(flow), s.message());
  }
  if (logEnabled(LogLevel::Debug)) {
    logf(LogLevel::Debug, "control connection {}: offsets {:+} (c2s) {:+} (s2c) from its labels",
         flowText(flow), rec.delta[0], rec.delta[1]);
  }
}

}  // namespace ftpalg::daemon
