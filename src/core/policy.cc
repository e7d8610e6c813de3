#include "policy.h"

#include "special_address.h"
#include "wire_forms.h"

namespace ftpalg::core {

namespace {

bool fromClient(const WireForm* form) { return form != nullptr && form->from == Dir::C2S; }

PolicyDecision refuse(PolicyDecision d, Reason r) {
  d.verdict = Verdict::Refuse;
  d.reason = r;
  d.rewrite = false;
  return d;
}

// Active mode: the server connects from its own address to the client's public one, which the
// gateway translates to the client's own.
void planActive(const NatBinding& nat, PolicyDecision& d) {
  if (d.announced.addr == nat.clientInside) d.rewritten.addr = nat.clientOutside;
  d.expect.src = Endpoint{nat.serverOutside, 0};
  d.expect.dst = d.rewritten;
  d.expect.natTo = d.announced;
  if (d.announced.addr == nat.clientOutside) d.expect.natTo.addr = nat.clientInside;
  // Behind DNAT the server connects from its private address, which the client does not
  // route (and would not accept as the peer it dialled): leave with the public one.
  if (!(nat.serverInside == nat.serverOutside)) {
    d.expect.hasSrcNat = true;
    d.expect.srcNatTo = nat.serverInside;
  }
}

// Passive mode: the client connects to the address it dialled for the control channel.
// `target` is where the data connection goes on the server's side: the announced endpoint, or
// with rewrite_to_peer the server's own address with the announced port.
void planPassive(const NatBinding& nat, const Endpoint& target, PolicyDecision& d) {
  d.rewritten = target;
  if (target.addr == nat.serverOutside) d.rewritten.addr = nat.serverInside;
  d.expect.src = Endpoint{nat.clientInside, 0};
  d.expect.dst = d.rewritten;
  d.expect.natTo = target;
  if (target.addr == nat.serverInside) d.expect.natTo.addr = nat.serverOutside;
  // Behind SNAT the client's data connection must reach the server from the control
  // connection's public address (servers refuse data connections from another address).
  // The gateway's masquerade rule usually does this already; an address pool without
  // `persistent`, or an SNAT rule for port 21 only, would not.
  if (!(nat.clientInside == nat.clientOutside)) {
    d.expect.hasSrcNat = true;
    d.expect.srcNatTo = nat.clientOutside;
  }
}

// The bounce and low-port switches for this announcement: a per-network override naming both
// the control connection's server and the announced address, else the global ones.
struct Switches {
  bool allowBounce;
  bool allowLowPorts;
  bool fromOverride;  // an override named both addresses
};

Switches switchesFor(const EngineConfig& cfg, const NatBinding& nat, const IpAddr& announced) {
  if (const PolicyOverride* o =
          findOverride(cfg.overrides, nat.serverInside, nat.serverOutside, announced)) {
    return {o->allowBounce, o->allowLowPorts, true};
  }
  return {cfg.allowBounce, cfg.allowLowPorts, false};
}

// A passive reply naming another address than its server's: refused, admitted as a bounce, or
// (rewrite_to_peer) sent to the server's own address. Reason::Ok with `toPeer` set for the last.
// An override allowing bounces between its networks is more specific than rewrite_to_peer; the
// global allowBounce is not (a container's private address is no FXP partner).
Reason passiveMismatch(const AnnouncementContext& ctx, const IpAddr& addr, const Switches& sw,
                       bool& toPeer) {
  const EngineConfig& cfg = *ctx.config;
  const bool overrideBounce = sw.fromOverride && sw.allowBounce;
  if (!overrideBounce && cfg.pasvAddressMismatch == PasvMismatch::RewriteToPeer) {
    // Whatever the address names, the pinhole is for the server itself: bounce-safe.
    toPeer = true;
    return Reason::Ok;
  }
  if (isSpecialAddress(addr) || isListedAddress(addr, cfg.gatewayAddresses)) {
    return Reason::SpecialAddress;
  }
  return sw.allowBounce ? Reason::Ok : Reason::PasvAddressMismatch;
}

// Why the announcement must be refused, or Reason::Ok. `toPeer`: admitted to the server's own
// address instead of the announced one (PasvMismatch::RewriteToPeer).
Reason refusal(const AnnouncementContext& ctx, const WireForm* form, const Endpoint& announced,
               bool& toPeer) {
  const EngineConfig& cfg = *ctx.config;
  const NatBinding& nat = *ctx.nat;
  const bool active = fromClient(form);
  // Wire forms belong to one direction only: PORT/EPRT/LPRT from the client, 227/229/228
  // from the server. Anything else is a forgery attempt or a confused peer.
  if (active != (ctx.dir == Dir::C2S)) return Reason::WrongDirection;
  if (ctx.stageRefusal != Reason::Ok) return ctx.stageRefusal;
  if (!active && !ctx.solicited) return Reason::Unsolicited;
  if (form != nullptr && form->longForm && !cfg.allowLongForms) return Reason::PolicyDisabled;
  if (active && ctx.epsvAll) return Reason::EpsvAllActive;
  if (announced.addr.family != ctx.connFamily) return Reason::FamilyMismatch;
  // The announced address must be the announcing peer's own, on either side of the NAT (a
  // client configured with its public address, a server with its published one), so no FTP
  // bounce and no third-party pinholes unless the admin allows them.
  const IpAddr& own = active ? nat.clientInside : nat.serverOutside;
  const IpAddr& ownPublic = active ? nat.clientOutside : nat.serverInside;
  const bool isOwn = announced.addr == own || announced.addr == ownPublic;
  const Switches sw = switchesFor(cfg, nat, announced.addr);
  if (!isOwn && !active) {
    if (const Reason r = passiveMismatch(ctx, announced.addr, sw, toPeer); r != Reason::Ok) {
      return r;
    }
  } else if (!isOwn) {
    // Whatever the bounce policy: no path to the gateway itself, to loopback or to a group.
    if (isSpecialAddress(announced.addr) || isListedAddress(announced.addr, cfg.gatewayAddresses)) {
      return Reason::SpecialAddress;
    }
    if (!sw.allowBounce) return Reason::BounceAddress;
  }
  if (announced.port < 1024 && !sw.allowLowPorts) return Reason::LowPort;
  if (ctx.outstandingExpectations >= cfg.maxExpectationsPerSession) {
    return Reason::TooManyExpectations;
  }
  return Reason::Ok;
}

}  // namespace

PolicyDecision decideAnnouncement(const AnnouncementContext& ctx) {
  const NatBinding& nat = *ctx.nat;
  const AddrParse& p = *ctx.parse;
  const WireForm* form = wireFormOf(ctx.kind);
  const bool active = fromClient(form);

  PolicyDecision d;
  d.announced = p.ep;
  if (!p.hasAddr) d.announced.addr = active ? nat.clientInside : nat.serverOutside;
  bool toPeer = false;
  if (const Reason r = refusal(ctx, form, d.announced, toPeer); r != Reason::Ok) {
    return refuse(d, r);
  }

  d.verdict = Verdict::Admit;
  d.reason = Reason::Ok;
  d.rewritten = d.announced;
  if (active) {
    planActive(nat, d);
  } else {
    planPassive(nat, toPeer ? Endpoint{nat.serverOutside, d.announced.port} : d.announced, d);
  }
  d.expect.srcPortAny = true;
  // 229 carries no address: nothing to splice even when the server is behind DNAT.
  d.rewrite = p.hasAddr && !(d.rewritten == d.announced);
  if (d.rewrite) d.reason = toPeer ? Reason::RewrittenToPeer : Reason::Rewritten;
  return d;
}

}  // namespace ftpalg::core
