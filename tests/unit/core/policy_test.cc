// decideAnnouncement: every Reason it can give, the order of its checks, and the rewritten
// endpoint and expectation for each NAT combination (none, SNAT of the client, DNAT of the
// server, both), for PORT/EPRT/LPRT and 227/229/228.
#include "src/core/policy.h"

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

constexpr std::string_view kClientIn = "10.0.0.2";       // client on its wire
constexpr std::string_view kClientOut = "198.51.100.7";  // client after SNAT
constexpr std::string_view kServerIn = "203.0.113.21";   // server as the client dials it
constexpr std::string_view kServerOut = "10.9.0.21";     // server on its wire (behind DNAT)

enum class Nat { None, Snat, Dnat, Both };

NatBinding binding(Nat n) {
  NatBinding b;
  b.clientInside = ipFromText(kClientIn);
  b.clientOutside = n == Nat::Snat || n == Nat::Both ? ipFromText(kClientOut) : b.clientInside;
  b.serverInside = ipFromText(kServerIn);
  b.serverOutside = n == Nat::Dnat || n == Nat::Both ? ipFromText(kServerOut) : b.serverInside;
  return b;
}

AddrParse parsed(const Endpoint& ep, bool hasAddr = true) {
  AddrParse p;
  p.status = ParseStatus::Ok;
  p.ep = ep;
  p.hasAddr = hasAddr;
  p.span = Span{5, 16};
  return p;
}

// One policy call with a context that admits unless a test changes something.
struct Case {
  EventKind kind = EventKind::Port;
  Dir dir = Dir::C2S;
  AddrParse parse;
  NatBinding nat = binding(Nat::None);
  EngineConfig cfg;
  Family family = Family::V4;
  bool epsvAll = false;
  bool solicited = true;
  size_t outstanding = 0;

  PolicyDecision run() const {
    AnnouncementContext ctx;
    ctx.dir = dir;
    ctx.kind = kind;
    ctx.parse = &parse;
    ctx.connFamily = family;
    ctx.nat = &nat;
    ctx.epsvAll = epsvAll;
    ctx.solicited = solicited;
    ctx.outstandingExpectations = outstanding;
    ctx.config = &cfg;
    return decideAnnouncement(ctx);
  }
};

Case active(Nat n, uint16_t port = 50000) {
  Case c;
  c.kind = EventKind::Port;
  c.dir = Dir::C2S;
  c.nat = binding(n);
  c.parse = parsed(Endpoint{c.nat.clientInside, port});
  return c;
}

Case passive(Nat n, uint16_t port = 40000) {
  Case c;
  c.kind = EventKind::Pasv227;
  c.dir = Dir::S2C;
  c.nat = binding(n);
  c.parse = parsed(Endpoint{c.nat.serverOutside, port});
  return c;
}

void expectRefused(const PolicyDecision& d, Reason r) {
  EXPECT_EQ(d.verdict, Verdict::Refuse);
  EXPECT_EQ(d.reason, r) << reasonName(d.reason);
  EXPECT_FALSE(d.rewrite);
}

// --- admitted, per NAT combination ----------------------------------------------------------

// One admitted announcement (PORT from the client or 227 from the server) and what the decision
// must show; fields left unset are not checked.
struct AdmitCase {
  const char* name;
  bool active;  // PORT (true) or 227 (false)
  Nat nat;
  Reason reason;
  bool rewrite;
  std::optional<Endpoint> announced = std::nullopt;
  std::optional<Endpoint> rewritten = std::nullopt;
  std::optional<Endpoint> expectSrc = std::nullopt;
  std::optional<bool> srcPortAny = std::nullopt;
  std::optional<Endpoint> expectDst = std::nullopt;
  std::optional<Endpoint> natTo = std::nullopt;
};

void PrintTo(const AdmitCase& c, std::ostream* os) { *os << c.name; }

class PolicyAdmit : public ::testing::TestWithParam<AdmitCase> {};

TEST_P(PolicyAdmit, RewriteAndExpectation) {
  const AdmitCase& c = GetParam();
  const PolicyDecision d = (c.active ? active(c.nat) : passive(c.nat)).run();
  EXPECT_EQ(d.verdict, Verdict::Admit) << c.name;
  EXPECT_EQ(d.reason, c.reason) << c.name << ": " << reasonName(d.reason);
  EXPECT_EQ(d.rewrite, c.rewrite) << c.name;
  if (c.announced) {
    EXPECT_EQ(d.announced, *c.announced) << c.name;
  }
  if (c.rewritten) {
    EXPECT_EQ(d.rewritten, *c.rewritten) << c.name;
  }
  if (c.expectSrc) {
    EXPECT_EQ(d.expect.src, *c.expectSrc) << c.name;
  }
  if (c.srcPortAny) {
    EXPECT_EQ(d.expect.srcPortAny, *c.srcPortAny) << c.name;
  }
  if (c.expectDst) {
    EXPECT_EQ(d.expect.dst, *c.expectDst) << c.name;
  }
  if (c.natTo) {
    EXPECT_EQ(d.expect.natTo, *c.natTo) << c.name;
  }
}

std::vector<AdmitCase> admitCases() {
  return {
      {.name = "PortWithoutNatIsAdmittedAsAnnounced",
       .active = true,
       .nat = Nat::None,
       .reason = Reason::Ok,
       .rewrite = false,
       .announced = endpoint(kClientIn, 50000),
       .rewritten = endpoint(kClientIn, 50000),  // as announced
       .expectSrc = endpoint(kServerIn, 0),
       .srcPortAny = true,
       .expectDst = endpoint(kClientIn, 50000),
       .natTo = endpoint(kClientIn, 50000)},
      {.name = "PortBehindSnatIsRewrittenToThePublicAddress",
       .active = true,
       .nat = Nat::Snat,
       .reason = Reason::Rewritten,
       .rewrite = true,
       .announced = endpoint(kClientIn, 50000),
       .rewritten = endpoint(kClientOut, 50000),
       .expectSrc = endpoint(kServerIn, 0),
       .expectDst = endpoint(kClientOut, 50000),
       .natTo = endpoint(kClientIn, 50000)},
      // The server opens the data connection from its own (private) address.
      {.name = "PortWithServerBehindDnatIsNotRewritten",
       .active = true,
       .nat = Nat::Dnat,
       .reason = Reason::Ok,
       .rewrite = false,
       .rewritten = endpoint(kClientIn, 50000),
       .expectSrc = endpoint(kServerOut, 0),
       .expectDst = endpoint(kClientIn, 50000),
       .natTo = endpoint(kClientIn, 50000)},
      {.name = "PortWithBothNats",
       .active = true,
       .nat = Nat::Both,
       .reason = Reason::Rewritten,
       .rewrite = true,
       .rewritten = endpoint(kClientOut, 50000),
       .expectSrc = endpoint(kServerOut, 0),
       .expectDst = endpoint(kClientOut, 50000),
       .natTo = endpoint(kClientIn, 50000)},
      {.name = "Pasv227WithoutNat",
       .active = false,
       .nat = Nat::None,
       .reason = Reason::Ok,
       .rewrite = false,
       .announced = endpoint(kServerIn, 40000),
       .expectSrc = endpoint(kClientIn, 0),
       .expectDst = endpoint(kServerIn, 40000),
       .natTo = endpoint(kServerIn, 40000)},
      {.name = "Pasv227WithClientBehindSnatIsNotRewritten",
       .active = false,
       .nat = Nat::Snat,
       .reason = Reason::Ok,
       .rewrite = false,
       .expectSrc = endpoint(kClientIn, 0),
       .expectDst = endpoint(kServerIn, 40000)},
      {.name = "Pasv227BehindDnatIsRewrittenToTheDialledAddress",
       .active = false,
       .nat = Nat::Dnat,
       .reason = Reason::Rewritten,
       .rewrite = true,
       .announced = endpoint(kServerOut, 40000),
       .rewritten = endpoint(kServerIn, 40000),
       .expectSrc = endpoint(kClientIn, 0),
       .expectDst = endpoint(kServerIn, 40000),
       .natTo = endpoint(kServerOut, 40000)},
      {.name = "Pasv227WithBothNats",
       .active = false,
       .nat = Nat::Both,
       .reason = Reason::Rewritten,
       .rewrite = true,
       .rewritten = endpoint(kServerIn, 40000),
       .expectSrc = endpoint(kClientIn, 0),
       .natTo = endpoint(kServerOut, 40000)},
  };
}

INSTANTIATE_TEST_SUITE_P(Policy, PolicyAdmit, ::testing::ValuesIn(admitCases()),
                         [](const ::testing::TestParamInfo<AdmitCase>& p) {
                           return std::string(p.param.name);
                         });

// 229 carries only a port: the server's own address, under every NAT combination.
class PolicyEpsv229WithoutAddress : public ::testing::TestWithParam<Nat> {};

TEST_P(PolicyEpsv229WithoutAddress, UsesTheServersOwnAndNeverSplices) {
  Case c = passive(GetParam());
  c.kind = EventKind::Epsv229;
  c.parse = parsed(Endpoint{IpAddr{}, 40001}, false);
  const PolicyDecision d = c.run();
  EXPECT_EQ(d.verdict, Verdict::Admit);
  EXPECT_EQ(d.reason, Reason::Ok);
  EXPECT_FALSE(d.rewrite);  // only a port on the wire: nothing to replace
  EXPECT_EQ(d.announced, (Endpoint{c.nat.serverOutside, 40001}));
  EXPECT_EQ(d.rewritten, (Endpoint{c.nat.serverInside, 40001}));
  EXPECT_EQ(d.expect.src, (Endpoint{c.nat.clientInside, 0}));
  EXPECT_EQ(d.expect.dst, (Endpoint{c.nat.serverInside, 40001}));
  EXPECT_EQ(d.expect.natTo, (Endpoint{c.nat.serverOutside, 40001}));
}

std::string natName(const ::testing::TestParamInfo<Nat>& p) {
  switch (p.param) {
    case Nat::None:
      return "NoNat";
    case Nat::Snat:
      return "Snat";
    case Nat::Dnat:
      return "Dnat";
    case Nat::Both:
      return "BothNats";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(Policy, PolicyEpsv229WithoutAddress,
                         ::testing::Values(Nat::None, Nat::Snat, Nat::Dnat, Nat::Both), natName);

// --- source NAT of the data connection ------------------------------------------------------

TEST(Policy, DataConnectionSourceNatPerNatCombination) {
  // Active mode: the server's data connection leaves the gateway from the address the client
  // dialled when the server is behind DNAT. Passive mode: the client's data connection leaves
  // from the control connection's public address when the client is behind SNAT.
  struct Want {
    Nat nat;
    bool active;
    bool hasSrcNat;
    std::string_view srcNatTo;
  };
  const Want wants[] = {
      {Nat::None, true, false, ""},       {Nat::Snat, true, false, ""},
      {Nat::Dnat, true, true, kServerIn}, {Nat::Both, true, true, kServerIn},
      {Nat::None, false, false, ""},      {Nat::Snat, false, true, kClientOut},
      {Nat::Dnat, false, false, ""},      {Nat::Both, false, true, kClientOut},
  };
  for (const Want& w : wants) {
    const PolicyDecision d = (w.active ? active(w.nat) : passive(w.nat)).run();
    SCOPED_TRACE(static_cast<int>(w.nat) * 2 + (w.active ? 1 : 0));
    EXPECT_EQ(d.verdict, Verdict::Admit);
    EXPECT_EQ(d.expect.hasSrcNat, w.hasSrcNat);
    if (w.hasSrcNat) {
      EXPECT_EQ(d.expect.srcNatTo, ipFromText(w.srcNatTo));
    }
  }
}

TEST(Policy, ActiveBehindDnatSourceNatKeysOnThePrivateSource) {
  // What postrouting sees: the server's private address to the client's own (after DNAT).
  const PolicyDecision d = active(Nat::Both).run();
  EXPECT_EQ(d.expect.src, endpoint(kServerOut, 0));
  EXPECT_EQ(d.expect.natTo, endpoint(kClientIn, 50000));
  EXPECT_TRUE(d.expect.hasSrcNat);
  EXPECT_EQ(d.expect.srcNatTo, ipFromText(kServerIn));
}

TEST(Policy, Epsv229BehindSnatGetsSourceNat) {
  Case c = passive(Nat::Snat);
  c.kind = EventKind::Epsv229;
  c.parse = parsed(Endpoint{IpAddr{}, 40001}, false);
  const PolicyDecision d = c.run();
  EXPECT_EQ(d.verdict, Verdict::Admit);
  EXPECT_TRUE(d.expect.hasSrcNat);
  EXPECT_EQ(d.expect.srcNatTo, ipFromText(kClientOut));
}

TEST(Policy, RefusedAnnouncementHasNoSourceNat) {
  Case c = active(Nat::Dnat);
  c.parse = parsed(endpoint("203.0.113.99", 50000));
  const PolicyDecision d = c.run();
  EXPECT_EQ(d.verdict, Verdict::Refuse);
  EXPECT_FALSE(d.expect.hasSrcNat);
}

TEST(Policy, Epsv229OnIpv6Connection) {
  Case c;
  c.kind = EventKind::Epsv229;
  c.dir = Dir::S2C;
  c.family = Family::V6;
  c.nat.clientInside = c.nat.clientOutside = ipFromText("2001:db8:1::2");
  c.nat.serverInside = c.nat.serverOutside = ipFromText("2001:db8:2::2");
  c.parse = parsed(Endpoint{IpAddr{}, 40001}, false);
  const PolicyDecision d = c.run();
  EXPECT_EQ(d.verdict, Verdict::Admit);
  EXPECT_EQ(d.announced, endpoint("[2001:db8:2::2]:40001"));
}

TEST(Policy, EprtBehindSnat) {
  Case c = active(Nat::Snat);
  c.kind = EventKind::Eprt;
  const PolicyDecision d = c.run();
  EXPECT_EQ(d.reason, Reason::Rewritten);
  EXPECT_EQ(d.rewritten, endpoint(kClientOut, 50000));
}

// --- each refusal -----------------------------------------------------------------------------

// Each wire form from the side that must not send it.
struct WrongSideCase {
  const char* name;
  bool active;  // a client's form (PORT, EPRT) or a server's (227, 229)
  EventKind kind;
};

void PrintTo(const WrongSideCase& c, std::ostream* os) { *os << c.name; }

class PolicyWrongDirection : public ::testing::TestWithParam<WrongSideCase> {};

TEST_P(PolicyWrongDirection, IsRefused) {
  const WrongSideCase& w = GetParam();
  Case c = w.active ? active(Nat::None) : passive(Nat::None);
  c.kind = w.kind;
  c.dir = w.active ? Dir::S2C : Dir::C2S;
  SCOPED_TRACE(w.name);
  expectRefused(c.run(), Reason::WrongDirection);
}

INSTANTIATE_TEST_SUITE_P(
    Policy, PolicyWrongDirection,
    ::testing::Values(WrongSideCase{"PortFromTheServer", true, EventKind::Port},
                      WrongSideCase{"EprtFromTheServer", true, EventKind::Eprt},
                      WrongSideCase{"Pasv227FromTheClient", false, EventKind::Pasv227},
                      WrongSideCase{"Epsv229FromTheClient", false, EventKind::Epsv229}),
    [](const ::testing::TestParamInfo<WrongSideCase>& p) { return std::string(p.param.name); });

TEST(Policy, UnsolicitedAppliesToRepliesOnly) {
  for (EventKind k : {EventKind::Pasv227, EventKind::Epsv229}) {
    Case c = passive(Nat::None);
    c.kind = k;
    c.solicited = false;
    expectRefused(c.run(), Reason::Unsolicited);
  }
  Case port = active(Nat::None);
  port.solicited = false;
  EXPECT_EQ(port.run().verdict, Verdict::Admit);
}

TEST(Policy, LongFormsNeedAllowLongForms) {
  Case lprt = active(Nat::Snat);
  lprt.kind = EventKind::Lprt;
  expectRefused(lprt.run(), Reason::PolicyDisabled);
  Case lpsv = passive(Nat::Dnat);
  lpsv.kind = EventKind::Lpsv228;
  expectRefused(lpsv.run(), Reason::PolicyDisabled);
  lprt.cfg.allowLongForms = true;
  lpsv.cfg.allowLongForms = true;
  const PolicyDecision a = lprt.run();
  EXPECT_EQ(a.verdict, Verdict::Admit);
  EXPECT_EQ(a.reason, Reason::Rewritten);
  EXPECT_EQ(a.rewritten, endpoint(kClientOut, 50000));
  const PolicyDecision p = lpsv.run();
  EXPECT_EQ(p.verdict, Verdict::Admit);
  EXPECT_EQ(p.rewritten, endpoint(kServerIn, 40000));
}

TEST(Policy, EpsvAllRefusesActiveFormsOnly) {
  for (EventKind k : {EventKind::Port, EventKind::Eprt}) {
    Case c = active(Nat::None);
    c.kind = k;
    c.epsvAll = true;
    expectRefused(c.run(), Reason::EpsvAllActive);
  }
  Case pasv = passive(Nat::None);
  pasv.epsvAll = true;
  EXPECT_EQ(pasv.run().verdict, Verdict::Admit);
}

TEST(Policy, FamilyMismatch) {
  Case eprt = active(Nat::None);
  eprt.kind = EventKind::Eprt;
  eprt.parse = parsed(endpoint("[2001:db8::2]:50000"));
  expectRefused(eprt.run(), Reason::FamilyMismatch);
  Case v6 = active(Nat::None);
  v6.family = Family::V6;  // an IPv4 PORT on an IPv6 control connection
  expectRefused(v6.run(), Reason::FamilyMismatch);
}

TEST(Policy, BounceRefusedUnlessAllowed) {
  Case port = active(Nat::None);
  port.parse = parsed(endpoint("10.0.0.99", 50000));
  const PolicyDecision r = port.run();
  expectRefused(r, Reason::BounceAddress);
  EXPECT_EQ(r.announced, endpoint("10.0.0.99", 50000));  // still reported
  port.cfg.allowBounce = true;
  const PolicyDecision a = port.run();
  EXPECT_EQ(a.verdict, Verdict::Admit);
  EXPECT_EQ(a.reason, Reason::Ok);
  EXPECT_FALSE(a.rewrite);  // a third host is never rewritten
  EXPECT_EQ(a.expect.dst, endpoint("10.0.0.99", 50000));

  Case pasv = passive(Nat::None);
  pasv.parse = parsed(endpoint("203.0.113.99", 40000));
  // A passive reply's third host has its own reason (pasv_address_mismatch).
  expectRefused(pasv.run(), Reason::PasvAddressMismatch);
  pasv.cfg.allowBounce = true;
  EXPECT_EQ(pasv.run().verdict, Verdict::Admit);
}

TEST(Policy, AnnouncingOwnPublicAddressIsAdmittedWithoutRewrite) {
  // A client behind SNAT configured with its public address, a server behind DNAT configured
  // with its published one: their own addresses, already right for the peer.
  Case port = active(Nat::Snat);
  port.parse = parsed(endpoint(kClientOut, 50000));
  PolicyDecision d = port.run();
  EXPECT_EQ(d.verdict, Verdict::Admit);
  EXPECT_FALSE(d.rewrite);
  EXPECT_EQ(d.expect.dst, endpoint(kClientOut, 50000));
  EXPECT_EQ(d.expect.natTo, (Endpoint{port.nat.clientInside, 50000}));
  Case pasv = passive(Nat::Dnat);
  pasv.parse = parsed(endpoint(kServerIn, 40000));
  d = pasv.run();
  EXPECT_EQ(d.verdict, Verdict::Admit);
  EXPECT_FALSE(d.rewrite);
  EXPECT_EQ(d.expect.dst, endpoint(kServerIn, 40000));
  EXPECT_EQ(d.expect.natTo, endpoint(kServerOut, 40000));
}

TEST(Policy, LowPortRefusedUnlessAllowed) {
  expectRefused(active(Nat::None, 1023).run(), Reason::LowPort);
  expectRefused(passive(Nat::None, 21).run(), Reason::LowPort);
  EXPECT_EQ(active(Nat::None, 1024).run().verdict, Verdict::Admit);
  Case c = active(Nat::Snat, 20);
  c.cfg.allowLowPorts = true;
  const PolicyDecision d = c.run();
  EXPECT_EQ(d.verdict, Verdict::Admit);
  EXPECT_EQ(d.rewritten, endpoint(kClientOut, 20));
}

TEST(Policy, TooManyExpectations) {
  Case c = active(Nat::None);
  c.cfg.maxExpectationsPerSession = 3;
  c.outstanding = 2;
  EXPECT_EQ(c.run().verdict, Verdict::Admit);
  c.outstanding = 3;
  expectRefused(c.run(), Reason::TooManyExpectations);
  Case p = passive(Nat::Dnat);
  p.cfg.maxExpectationsPerSession = 1;
  p.outstanding = 1;
  expectRefused(p.run(), Reason::TooManyExpectations);
}

TEST(Policy, ChecksRunInADocumentedOrder) {
  // Direction before everything; then solicitation, long forms, EPSV ALL, family, bounce,
  // low port, expectation limit.
  Case c = active(Nat::None, 21);
  c.dir = Dir::S2C;
  c.epsvAll = true;
  c.parse = parsed(endpoint("10.0.0.99", 21));
  c.outstanding = 100;
  expectRefused(c.run(), Reason::WrongDirection);
  c.dir = Dir::C2S;
  expectRefused(c.run(), Reason::EpsvAllActive);
  c.epsvAll = false;
  expectRefused(c.run(), Reason::BounceAddress);
  c.cfg.allowBounce = true;
  expectRefused(c.run(), Reason::LowPort);
  c.cfg.allowLowPorts = true;
  expectRefused(c.run(), Reason::TooManyExpectations);
  c.outstanding = 0;
  EXPECT_EQ(c.run().verdict, Verdict::Admit);

  Case p = passive(Nat::None);
  p.kind = EventKind::Lpsv228;
  p.solicited = false;
  expectRefused(p.run(), Reason::Unsolicited);
  p.solicited = true;
  expectRefused(p.run(), Reason::PolicyDisabled);
}

}  // namespace
}  // namespace ftpalg::test
