// The engine's read-only session views (src/core/session_view.cc): after a replayed session
// with a rewritten PORT (one byte shorter) and a rewritten 227 (two bytes longer), the view
// shows the tuple, NAT binding, login, bytes, rewrites, the offset of each direction and the
// outstanding announcements with their deadlines; viewing changes nothing.
#include "ftpalg/core/session_view.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test

namespace {

constexpr uint64_t kSecond = 1'000'000'000;

// Every session the engine shows.
class Collect : public SessionVisitor {
 public:
  std::vector<SessionView> seen;
  size_t stopAfter = 1000;
  bool visit(const SessionView& s) override {
    seen.push_back(s);
    return seen.size() < stopAfter;
  }
};

EngineConfig config() {
  EngineConfig c;
  c.requireLogin = true;
  return c;
}

// The client 198.18.0.2 leaves as 198.19.100.99 (PORT text three bytes longer); the server
// 198.19.0.2 is dialled as 198.18.0.10 (227 text one byte longer).
NatBinding binding(const EngineHarness& h) {
  return NatBinding{h.client().addr, ipFromText("198.19.100.99"), ipFromText("198.18.0.10"),
                    h.server().addr};
}

void loggedInSession(EngineHarness& h) {
  h.setNat(binding(h));
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "USER ftp\r\n");
  h.send(Dir::S2C, "230 ok\r\n");
}

TEST(SessionView, ShowsOffsetsRewritesAndAnnouncements) {
  EngineHarness h(config());
  loggedInSession(h);
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  h.send(Dir::S2C, "200 PORT ok\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  ASSERT_NE(h.delivered(Dir::C2S).find("PORT 198,19,100,99,195,80\r\n"), std::string::npos);
  ASSERT_NE(h.delivered(Dir::S2C).find("(198,18,0,10,156,64)"), std::string::npos);

  Collect c;
  h.engine().viewSessions(c, h.nowNs);
  ASSERT_EQ(c.seen.size(), 1u);
  const SessionView& s = c.seen[0];
  EXPECT_EQ(s.flow.client, h.client());
  EXPECT_EQ(s.flow.server, h.server());
  EXPECT_TRUE(s.natResolved);
  EXPECT_EQ(s.nat.clientOutside, ipFromText("198.19.100.99"));
  EXPECT_EQ(s.login, LoginState::LoggedIn);
  EXPECT_EQ(loginStateName(s.login), "logged_in");
  EXPECT_TRUE(s.established);
  EXPECT_FALSE(s.closing);
  EXPECT_EQ(s.rewrites, 2u);
  // "198,19,100,99" is 3 bytes longer than "198,18,0,2"; "198,18,0,10" 1 byte longer than
  // "198,19,0,2".
  EXPECT_EQ(s.dir[0].delta, 3);
  EXPECT_EQ(s.dir[1].delta, 1);
  const std::string c2s = "USER ftp\r\nPORT 198,18,0,2,195,80\r\nPASV\r\n";
  const std::string s2c =
      "220 ready\r\n230 ok\r\n200 PORT ok\r\n227 Entering Passive Mode (198,19,0,2,156,64)\r\n";
  EXPECT_EQ(s.dir[0].bytes, c2s.size());
  EXPECT_EQ(s.dir[1].bytes, s2c.size());
  EXPECT_EQ(s.expiresNs, s.lastSeenNs + config().idleTimeoutNs);
  ASSERT_EQ(s.announcementCount, 2u);
  // Newest first: the 227 (server -> client), then the PORT.
  EXPECT_EQ(s.announcements[0].dir, Dir::S2C);
  EXPECT_EQ(s.announcements[0].expect.dst, (Endpoint{ipFromText("198.18.0.10"), 40000}));
  EXPECT_EQ(s.announcements[0].expect.natTo, (Endpoint{h.server().addr, 40000}));
  EXPECT_EQ(s.announcements[1].dir, Dir::C2S);
  EXPECT_EQ(s.announcements[1].expect.dst, (Endpoint{ipFromText("198.19.100.99"), 50000}));
  EXPECT_FALSE(s.announcements[1].awaitingReply);  // its 200 came
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_GT(s.announcements[i].untilNs, h.nowNs + config().expectTimeoutNs - kSecond);
  }

  // Past the announcements' deadline they are no longer shown (the kernel let them go).
  SessionView later;
  ASSERT_TRUE(h.engine().viewSession(s.flow, h.nowNs + 120 * kSecond, later));
  EXPECT_EQ(later.announcementCount, 0u);
  EXPECT_EQ(later.dir[1].delta, 1);
}

TEST(SessionView, BeforeLoginAndUnknownFlow) {
  EngineHarness h(config());
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  SessionView v;
  ASSERT_TRUE(h.engine().viewSession(FlowKey{h.client(), h.server()}, h.nowNs, v));
  EXPECT_EQ(v.login, LoginState::Greeted);
  EXPECT_EQ(v.rewrites, 0u);
  EXPECT_EQ(v.dir[0].delta, 0);
  EXPECT_EQ(v.dir[1].delta, 0);
  FlowKey other{h.client(), h.server()};
  other.client.port = static_cast<uint16_t>(other.client.port + 1);
  EXPECT_FALSE(h.engine().viewSession(other, h.nowNs, v));
}

TEST(SessionView, ViewingChangesNothingAndVisitorCanStop) {
  EngineHarness h(config());
  loggedInSession(h);
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
  Collect c;
  c.stopAfter = 1;
  h.engine().viewSessions(c, h.nowNs);
  h.engine().viewSessions(c, h.nowNs);
  ASSERT_EQ(c.seen.size(), 2u);
  EXPECT_EQ(c.seen[0].dir[1].delta, c.seen[1].dir[1].delta);
  // The stream goes on as before: the next 227 is rewritten on the same offset.
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,65)\r\n");
  EXPECT_NE(h.delivered(Dir::S2C).find("(198,18,0,10,156,65)"), std::string::npos);
  SessionView v;
  ASSERT_TRUE(h.engine().viewSession(FlowKey{h.client(), h.server()}, h.nowNs, v));
  EXPECT_EQ(v.dir[1].delta, 2);
  EXPECT_EQ(v.rewrites, 2u);
}

}  // namespace
}  // namespace ftpalg::test
