// Resource limits (src/core/limits.cc): junk without a handshake, SYN floods and partial
// announcements held open can no longer take the engine's fixed tables and the kernel queue
// away from established sessions.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "ftpalg/core/engine.h"
#include "ftpalg/core/packet.h"
#include "tests/support/conn_driver.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

using Driver = ConnDriver;

Conn clientNo(uint32_t n, uint16_t port = 40000) {
  const std::string ip = "10." + std::to_string(1 + (n >> 16)) + "." +
                         std::to_string((n >> 8) & 255) + "." + std::to_string(n & 255);
  return Conn{endpoint(ip, port), endpoint("192.0.2.1:21")};
}

Conn legit() { return Conn{endpoint("172.16.0.9:50000"), endpoint("192.0.2.1:21")}; }

size_t portEventsOf(const Driver& d, const Conn& c) {
  return static_cast<size_t>(std::count_if(d.events.begin(), d.events.end(), [&](const Event& e) {
    return e.kind == EventKind::Port && e.flow.client == c.client;
  }));
}

// Finding 1: 512 payload segments from fresh sources without a handshake used to take every
// pooled direction buffer (for the 1 h idle timeout) and every later session's data was
// dropped.
TEST(Limits, UnansweredJunkNoLongerStarvesAnEstablishedSession) {
  EngineConfig cfg;  // 512 buffers
  Driver d(cfg);
  for (uint32_t i = 0; i < 2 * cfg.maxBufferedDirections; ++i) {
    Conn junk = clientNo(i);
    d.say(junk, Dir::C2S, "X");  // a partial line keeps the buffer
  }
  Conn c = legit();
  d.login(c);
  EXPECT_NE(d.say(c, Dir::C2S, "PORT 172,16,0,9,4,1\r\n"), PacketVerdict::Drop);
  EXPECT_EQ(portEventsOf(d, c), 1u);
  EXPECT_GE(d.engine.counter(Counter::BufferReclaimed), cfg.maxBufferedDirections);
}

// Established sessions with traffic keep their buffers: junk is dropped instead.
TEST(Limits, BuffersOfEstablishedSessionsAreNeverReclaimedForJunk) {
  EngineConfig cfg;
  cfg.maxBufferedDirections = 4;
  Driver d(cfg);
  Conn busy[4] = {clientNo(1), clientNo(2), clientNo(3), clientNo(4)};
  for (Conn& c : busy) {
    d.login(c);
    d.say(c, Dir::C2S, "PORT 10,1,");  // a partial line: each holds a buffer
  }
  Conn junk = clientNo(99);
  EXPECT_EQ(d.say(junk, Dir::C2S, "X"), PacketVerdict::Drop);
  EXPECT_EQ(d.engine.counter(Counter::PoolExhausted), 1u);
  EXPECT_EQ(d.engine.counter(Counter::BufferReclaimed), 0u);
  d.now += 1 * kSecond;
  for (uint32_t i = 0; i < 4; ++i) {
    Conn& c = busy[i];
    const std::string rest = "0," + std::to_string(i + 1) + ",4,1\r\n";  // 10.1.0.<i+1>
    EXPECT_NE(d.say(c, Dir::C2S, rest), PacketVerdict::Drop);
    EXPECT_EQ(portEventsOf(d, c), 1u);
  }
}

// Established sessions silent for longer than the half-open timeout lose their buffers to an
// established session in need, never to a session on probation.
TEST(Limits, IdleEstablishedBuffersGoToEstablishedSessionsOnly) {
  EngineConfig cfg;
  cfg.maxBufferedDirections = 1;
  Driver d(cfg);
  Conn idle = clientNo(1);
  d.login(idle);
  d.say(idle, Dir::C2S, "NO");  // keeps the only buffer
  d.now += cfg.halfOpenTimeoutNs + kSecond;
  Conn junk = clientNo(2);
  EXPECT_EQ(d.say(junk, Dir::C2S, "X"), PacketVerdict::Drop);
  Conn c = legit();
  d.handshake(c);
  EXPECT_NE(d.say(c, Dir::S2C, "220 ready\r\n"), PacketVerdict::Drop);
  EXPECT_EQ(d.engine.counter(Counter::BufferReclaimed), 1u);
}

// Finding 3: 4096 SYNs (never answered) used to fill the table for an hour; new control
// connections then passed uninspected.
TEST(Limits, SynFloodNoLongerBlocksANewSession) {
  EngineConfig cfg;  // 4096 sessions
  Driver d(cfg);
  for (uint32_t i = 0; i < cfg.maxSessions + 1000; ++i) {
    Conn syn = clientNo(i);
    d.send(syn, Dir::C2S, TcpSyn, "");
  }
  EXPECT_EQ(d.engine.sessionCount(), cfg.maxSessions);
  Conn c = legit();
  d.login(c);
  EXPECT_NE(d.say(c, Dir::C2S, "PORT 172,16,0,9,4,1\r\n"), PacketVerdict::Drop);
  EXPECT_EQ(portEventsOf(d, c), 1u);  // inspected
  EXPECT_GE(d.engine.counter(Counter::SessionEvicted), 1000u);
  EXPECT_EQ(d.engine.counter(Counter::SessionTableFull), 0u);
}

// Half-open and unanswered sessions end after halfOpenTimeout, established ones stay.
TEST(Limits, HalfOpenSessionsExpireInSeconds) {
  EngineConfig cfg;
  Driver d(cfg);
  Conn syn = clientNo(1);
  d.send(syn, Dir::C2S, TcpSyn, "");
  Conn junk = clientNo(2);
  d.say(junk, Dir::C2S, "USER x\r\n");
  Conn c = legit();
  d.login(c);
  d.now += cfg.halfOpenTimeoutNs - kSecond;
  d.expire();
  EXPECT_EQ(d.engine.sessionCount(), 3u);
  d.now += 2 * kSecond;
  d.expire();
  EXPECT_EQ(d.engine.sessionCount(), 1u);
  EXPECT_EQ(d.engine.counter(Counter::HalfOpenExpired), 2u);
}

// A table full of established sessions: the new session's packets get the declared verdict.
TEST(Limits, FullTableFollowsTheDeclaredPolicy) {
  for (const bool failOpen : {false, true}) {
    EngineConfig cfg;
    cfg.maxSessions = 2;
    cfg.failOpenWhenFull = failOpen;
    Driver d(cfg);
    Conn a = clientNo(1);
    Conn b = clientNo(2);
    d.login(a);
    d.login(b);
    Conn c = legit();
    EXPECT_EQ(d.send(c, Dir::C2S, TcpSyn, ""),
              failOpen ? PacketVerdict::Accept : PacketVerdict::Drop);
    EXPECT_EQ(d.engine.counter(Counter::SessionTableFull), 1u);
    ASSERT_FALSE(d.events.empty());
    EXPECT_EQ(d.events.back().reason, Reason::SessionTableFull);
    EXPECT_EQ(d.events.back().verdict, failOpen ? Verdict::Pass : Verdict::Refuse);
    EXPECT_EQ(d.engine.sessionCount(), 2u);
  }
}

// Finding 4: 128 connections sending a partial LPRT one byte per segment used to hold 32
// packets each (4096, a whole kernel queue) until their sessions ended.
TEST(Limits, PartialAnnouncementHoldersAreBounded) {
  EngineConfig cfg;
  SnatConnDriver d(cfg);
  const std::string partial = "LPRT 4,4,10,0,0,1,2,4,1,2,3,4,5,6,7,8,9,1,2,3,4,5,6,7,8,9,1,2";
  std::vector<Conn> conns;
  for (uint32_t i = 0; i < 128; ++i) {
    conns.push_back(clientNo(i));
    d.login(conns.back());
  }
  for (Conn& c : conns) {
    for (char ch : partial) d.say(c, Dir::C2S, std::string_view(&ch, 1));
  }
  EXPECT_LE(d.maxHeld, cfg.maxHeldPackets);
  EXPECT_GT(d.engine.counter(Counter::HoldLimit), 0u);
  // Nothing is held past the hold deadline.
  d.now += cfg.holdTimeoutNs;
  d.expire();
  EXPECT_EQ(d.heldNow(), 0u);
  EXPECT_GT(d.engine.counter(Counter::HoldTimeout), 0u);
  // A legitimate announcement still goes through while the holders keep sending.
  Conn c = legit();
  d.login(c);
  EXPECT_NE(d.say(c, Dir::C2S, "PORT 172,16,0,9,4,1\r\n"), PacketVerdict::Drop);
  ASSERT_EQ(portEventsOf(d, c), 1u);
}

// The documented rule: a partial announcement held past holdTimeout is released unrewritten;
// completed later it is refused (partially_released), never half rewritten.
TEST(Limits, AnnouncementHeldPastTheDeadlineIsReleasedAndRefused) {
  EngineConfig cfg;
  SnatConnDriver d(cfg);
  Conn c = legit();
  d.login(c);
  EXPECT_EQ(d.say(c, Dir::C2S, "PORT 172,16,0,"), PacketVerdict::Hold);
  d.now += cfg.holdTimeoutNs;
  d.expire();
  EXPECT_EQ(d.heldNow(), 0u);
  EXPECT_EQ(d.engine.counter(Counter::HoldTimeout), 1u);
  EXPECT_NE(d.say(c, Dir::C2S, "9,4,1\r\n"), PacketVerdict::Hold);
  ASSERT_EQ(portEventsOf(d, c), 1u);
  const auto it = std::find_if(d.events.begin(), d.events.end(),
                               [](const Event& e) { return e.kind == EventKind::Port; });
  EXPECT_EQ(it->verdict, Verdict::Refuse);
  EXPECT_EQ(it->reason, Reason::PartiallyReleased);
}

// The memory target: an idle session costs at most 512 bytes of engine state, its index slots
// included, so 100k sessions fit in about 50 MB.
TEST(Limits, IdleSessionFitsTheMemoryTarget) {
  const size_t indexBytesPerSession = 2 * 2 * sizeof(uint32_t);  // index is 2-4x the slots
  EXPECT_LE(Engine::sessionStateBytes() + indexBytesPerSession, 512u);
}

}  // namespace
}  // namespace ftpalg::test
