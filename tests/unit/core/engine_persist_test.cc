// Sessions that outlive the engine (src/core/engine_persist.cc): which sessions are reported for
// storing, and a successor engine that adopts a snapshot carries the session on: the next
// command of a +k and of a -k session arrives intact, the next PORT and PASV are admitted.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ftpalg/core/engine.h"
#include "src/core/session_codec.h"
#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test

namespace {

EngineConfig persisting() {
  EngineConfig c;
  c.persistSessions = true;
  c.requireLogin = true;
  return c;
}

// The client 198.18.0.2 leaves as `pub`; the server 198.19.0.2 is dialled as `dialled`.
NatBinding nat(const EngineHarness& h, std::string_view pub, std::string_view dialled) {
  return NatBinding{h.client().addr, ipFromText(pub), ipFromText(dialled), h.server().addr};
}

FlowKey flowOf(const EngineHarness& h) { return FlowKey{h.client(), h.server()}; }

// Greeting, login, a rewritten PORT and a rewritten 227.
void rewrittenSession(EngineHarness& h) {
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "USER ftp\r\n");
  h.send(Dir::S2C, "230 ok\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  h.send(Dir::S2C, "200 PORT ok\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
}

std::vector<uint8_t> save(EngineHarness& h) {
  std::vector<uint8_t> out(kMaxSnapshotBytes);
  out.resize(h.engine().saveSession(flowOf(h), out));
  return out;
}

size_t admitted(const EngineHarness& h, EventKind k) {
  size_t n = 0;
  for (const Event& e : h.events) n += e.kind == k && e.verdict == Verdict::Admit ? 1 : 0;
  return n;
}

// Runs a rewritten session, moves it to a successor engine (adopting its snapshot when
// `adopt`), and sends the next command, reply, PORT and PASV through the successor.
struct Restarted {
  std::string c2s;
  std::string s2c;
  size_t ports = 0;
  size_t pasvs = 0;
  bool ackedToClient = false;
  size_t badOverlaps = 0;
};

Restarted restart(std::string_view pub, std::string_view dialled, bool adopt) {
  EngineHarness h(persisting());
  h.setNat(nat(h, pub, dialled));
  rewrittenSession(h);
  const std::vector<uint8_t> snap = save(h);
  EXPECT_FALSE(snap.empty());
  StaticNat none;
  Engine successor(persisting(), &none);
  if (adopt) {
    EXPECT_EQ(successor.adoptSession(snap, h.nowNs), SnapshotError::None);
    EXPECT_EQ(successor.counter(Counter::SessionsAdopted), 1u);
  }
  const size_t c2sBefore = h.delivered(Dir::C2S).size();
  const size_t s2cBefore = h.delivered(Dir::S2C).size();
  const size_t portsBefore = admitted(h, EventKind::Port);
  const size_t pasvBefore = admitted(h, EventKind::Pasv227);
  h.switchEngine(successor);
  h.send(Dir::C2S, "NOOP\r\n");
  h.send(Dir::S2C, "200 NOOP ok\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,195,81\r\n");
  h.send(Dir::S2C, "200 PORT ok\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,65)\r\n");
  Restarted r;
  r.c2s = h.delivered(Dir::C2S).substr(std::min(c2sBefore, h.delivered(Dir::C2S).size()));
  r.s2c = h.delivered(Dir::S2C).substr(std::min(s2cBefore, h.delivered(Dir::S2C).size()));
  r.ports = admitted(h, EventKind::Port) - portsBefore;
  r.pasvs = admitted(h, EventKind::Pasv227) - pasvBefore;
  r.ackedToClient = h.lastAckTo(Dir::C2S) == h.sndNext(Dir::C2S);
  r.badOverlaps = h.inconsistentOverlaps;
  return r;
}

}  // namespace

// "198,18,0,2" -> "198,51,100,77" and "198,19,0,2" -> "198,18,100,100": +3 and +4.
TEST(EnginePersist, GrownSessionCarriesOnInASuccessor) {
  const Restarted r = restart("198.51.100.77", "198.18.100.100", true);
  EXPECT_EQ(r.c2s, "NOOP\r\nPORT 198,51,100,77,195,81\r\nPASV\r\n");
  EXPECT_EQ(r.s2c,
            "200 NOOP ok\r\n200 PORT ok\r\n227 Entering Passive Mode (198,18,100,100,156,65)\r\n");
  EXPECT_EQ(r.ports, 1u);
  EXPECT_EQ(r.pasvs, 1u);
  EXPECT_TRUE(r.ackedToClient);
  EXPECT_EQ(r.badOverlaps, 0u);
}

// "198,18,0,2" -> "1,2,3,4" and "198,19,0,2" -> "1,2,3,5": -3 both ways.
TEST(EnginePersist, ShrunkSessionCarriesOnInASuccessor) {
  const Restarted r = restart("1.2.3.4", "1.2.3.5", true);
  EXPECT_EQ(r.c2s, "NOOP\r\nPORT 1,2,3,4,195,81\r\nPASV\r\n");
  EXPECT_EQ(r.s2c, "200 NOOP ok\r\n200 PORT ok\r\n227 Entering Passive Mode (1,2,3,5,156,65)\r\n");
  EXPECT_EQ(r.ports, 1u);
  EXPECT_EQ(r.pasvs, 1u);
  EXPECT_TRUE(r.ackedToClient);
}

// Without the snapshot the successor picks the session up mid-stream: the offsets are lost and
// what the server gets of the next command is not what the client sent (the bug adoption fixes).
TEST(EnginePersist, WithoutAdoptionTheNextCommandIsNotDeliveredIntact) {
  const Restarted r = restart("198.51.100.77", "198.18.100.100", false);
  EXPECT_NE(r.c2s, "NOOP\r\nPORT 198,51,100,77,195,81\r\nPASV\r\n");
}

TEST(EnginePersist, OnlyRewrittenSessionsAreReportedAndTheEndErasesThem) {
  EngineHarness plain(persisting());
  plain.handshake();
  plain.send(Dir::S2C, "220 ready\r\n");
  plain.send(Dir::C2S, "NOOP\r\n");
  EXPECT_TRUE(plain.states.empty());

  EngineHarness h(persisting());
  h.setNat(nat(h, "198.51.100.77", "198.18.100.100"));
  rewrittenSession(h);
  ASSERT_FALSE(h.states.empty());
  EXPECT_EQ(h.states.front().flow, flowOf(h));
  EXPECT_FALSE(h.states.back().erase);
  const size_t before = h.states.size();
  h.ackFrom(Dir::C2S);  // a bare acknowledgement changes nothing stored
  EXPECT_EQ(h.states.size(), before);
  h.sendAt(Dir::C2S, h.sndNext(Dir::C2S), "", TcpRst | TcpAck);
  ASSERT_GT(h.states.size(), before);
  EXPECT_TRUE(h.states.back().erase);
}

TEST(EnginePersist, NotReportedUnlessConfigured) {
  EngineConfig c = persisting();
  c.persistSessions = false;
  EngineHarness h(c);
  h.setNat(nat(h, "198.51.100.77", "198.18.100.100"));
  rewrittenSession(h);
  EXPECT_TRUE(h.states.empty());
  EXPECT_FALSE(save(h).empty());  // saving works all the same
}

TEST(EnginePersist, AdoptionRefusals) {
  EngineHarness h(persisting());
  h.setNat(nat(h, "198.51.100.77", "198.18.100.100"));
  rewrittenSession(h);
  const std::vector<uint8_t> snap = save(h);
  StaticNat none;

  Engine twice(persisting(), &none);
  EXPECT_EQ(twice.adoptSession(snap, 1), SnapshotError::None);
  EXPECT_EQ(twice.adoptSession(snap, 1), SnapshotError::Exists);

  EngineConfig otherPorts = persisting();
  otherPorts.controlPorts = {2121, 0, 0, 0, 0, 0, 0, 0};
  Engine other(otherPorts, &none);
  EXPECT_EQ(other.adoptSession(snap, 1), SnapshotError::NotControl);

  EngineConfig one = persisting();
  one.maxSessions = 1;
  EngineHarness full(one, {.v6 = true});
  full.handshake();
  full.send(Dir::S2C, "220 ready\r\n");
  EXPECT_EQ(full.engine().adoptSession(snap, 1), SnapshotError::TableFull);

  std::vector<uint8_t> corrupt = snap;
  corrupt[corrupt.size() / 2] ^= 0x40;
  Engine e(persisting(), &none);
  EXPECT_EQ(e.adoptSession(corrupt, 1), SnapshotError::BadChecksum);
  EXPECT_EQ(e.sessionCount(), 0u);
  EXPECT_EQ(snapshotErrorName(SnapshotError::BadChecksum), "bad_checksum");
}

}  // namespace ftpalg::test
