// The FTP stage of a session (ftp_stage.h) and, with EngineConfig::requireLogin, the refusal of
// announcements in streams that are not (yet) a logged-in FTP session: slipstreaming through an
// HTTP POST to a control port, PORT before login, and the rule for sessions picked up mid-stream.
#include "src/core/ftp_stage.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ftpalg/core/engine.h"
#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

ReplyLine reply(uint16_t code, bool last = true) {
  ReplyLine r;
  r.status = ParseStatus::Ok;
  r.code = code;
  r.first = true;
  r.last = last;
  return r;
}

TEST(FtpStage, Transitions) {
  EXPECT_EQ(afterReply(FtpStage::AwaitGreeting, reply(220)), FtpStage::Greeted);
  EXPECT_EQ(afterReply(FtpStage::AwaitGreeting, reply(220, false)), FtpStage::Greeted);
  EXPECT_EQ(afterReply(FtpStage::AwaitGreeting, reply(120)), FtpStage::AwaitGreeting);
  EXPECT_EQ(afterReply(FtpStage::AwaitGreeting, reply(200)), FtpStage::NotFtp);
  EXPECT_EQ(afterReply(FtpStage::AwaitGreeting, ReplyLine{}), FtpStage::NotFtp);  // "HTTP/1.1"
  EXPECT_EQ(afterReply(FtpStage::Greeted, reply(331)), FtpStage::Greeted);
  EXPECT_EQ(afterReply(FtpStage::Greeted, reply(230, false)), FtpStage::Greeted);
  EXPECT_EQ(afterReply(FtpStage::Greeted, reply(230)), FtpStage::LoggedIn);
  EXPECT_EQ(afterReply(FtpStage::Greeted, reply(232)), FtpStage::LoggedIn);
  EXPECT_EQ(afterReply(FtpStage::LoggedIn, reply(200)), FtpStage::LoggedIn);
  EXPECT_EQ(afterReply(FtpStage::LoggedIn, reply(530)), FtpStage::Greeted);
  EXPECT_EQ(afterReply(FtpStage::LoggedIn, reply(220)), FtpStage::Greeted);  // after REIN
  EXPECT_EQ(afterReply(FtpStage::NotFtp, reply(230)), FtpStage::NotFtp);
  EXPECT_EQ(afterReply(FtpStage::PickedUp, reply(200)), FtpStage::PickedUp);
  EXPECT_EQ(afterReply(FtpStage::PickedUp, reply(331)), FtpStage::PickedUp);
  EXPECT_EQ(afterReply(FtpStage::PickedUp, reply(226)), FtpStage::LoggedIn);
  EXPECT_EQ(afterReply(FtpStage::PickedUp, reply(227)), FtpStage::LoggedIn);
}

TEST(FtpStage, Refusals) {
  EXPECT_EQ(stageRefusal(FtpStage::AwaitGreeting), Reason::NotFtp);
  EXPECT_EQ(stageRefusal(FtpStage::NotFtp), Reason::NotFtp);
  EXPECT_EQ(stageRefusal(FtpStage::Greeted), Reason::BeforeLogin);
  EXPECT_EQ(stageRefusal(FtpStage::PickedUp), Reason::BeforeLogin);
  EXPECT_EQ(stageRefusal(FtpStage::LoggedIn), Reason::Ok);
  EXPECT_EQ(reasonName(Reason::NotFtp), "not_ftp");
  EXPECT_EQ(reasonName(Reason::BeforeLogin), "before_login");
}

EngineConfig guarded() {
  EngineConfig cfg;
  cfg.requireLogin = true;
  cfg.controlPorts[1] = 2121;
  return cfg;
}

// A browser's POST to a control port carrying PORT lines in its body: refused before any
// greeting, and for good once the server answers with something that is not an FTP greeting.
TEST(FtpStage, HttpPostSlipstreamOpensNothing) {
  EngineHarness h(guarded());
  h.handshake();
  h.send(Dir::C2S,
         "POST /upload HTTP/1.1\r\nHost: ftp.example\r\nContent-Length: 24\r\n\r\n"
         "PORT 198,18,0,2,195,80\r\n");
  ASSERT_EQ(h.events.size(), 1u);
  EXPECT_EQ(h.events[0].verdict, Verdict::Refuse);
  EXPECT_EQ(h.events[0].reason, Reason::NotFtp);
  EXPECT_FALSE(h.events[0].hasExpect);
  h.send(Dir::S2C, "HTTP/1.1 200 OK\r\n230 fake\r\n\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,195,81\r\n");
  EXPECT_EQ(h.events.back().reason, Reason::NotFtp);
  EXPECT_FALSE(h.events.back().hasExpect);
}

TEST(FtpStage, AnnouncementsActOnlyAfterLogin) {
  EngineHarness h(guarded());
  h.handshake();
  h.send(Dir::S2C, "220-Welcome\r\n220 ready\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  EXPECT_EQ(h.events.back().reason, Reason::BeforeLogin);
  h.send(Dir::S2C, "530 log in first\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,195,80)\r\n");
  EXPECT_EQ(h.events.back().reason, Reason::BeforeLogin);
  h.send(Dir::C2S, "USER a\r\n");
  h.send(Dir::S2C, "331 pass\r\n");
  h.send(Dir::C2S, "PASS b\r\n");
  h.send(Dir::S2C, "230 ok\r\n");
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  EXPECT_EQ(h.events.back().verdict, Verdict::Admit);
  h.send(Dir::S2C, "200 ok\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,195,80)\r\n");
  EXPECT_EQ(h.events.back().verdict, Verdict::Admit);
}

// Mid-stream (no SYN seen: the daemon restarted, say): the session is followed, and its
// announcements act once a reply shows a logged-in user.
TEST(FtpStage, MidStreamPickupWaitsForEvidenceOfALogin) {
  Engine engine(guarded(), nullptr);
  const Endpoint c = endpoint("198.18.0.2:40000");
  const Endpoint sv = endpoint("198.19.0.2:21");
  std::vector<Event> events;
  auto feed = [&](std::vector<uint8_t> pkt) {
    const PacketParse pp = parsePacket(pkt);
    Actions acts;
    engine.onSegment(Segment{&pp.view, 1}, 1, acts);
    for (size_t i = 0; i < acts.eventCount; ++i) events.push_back(acts.events[i]);
  };
  const std::string port = "PORT 198,18,0,2,195,80\r\n";
  const std::string done = "226 done\r\n";
  feed(PacketBuilder().v4(c, sv).seq(100).ack(500).payload(port).build());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].reason, Reason::BeforeLogin);
  feed(PacketBuilder().v4(sv, c).seq(500).ack(124).payload(done).build());
  feed(PacketBuilder().v4(c, sv).seq(124).ack(510).payload(port).build());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].verdict, Verdict::Admit);
}

// Without the guard (the default), nothing changes: PORT acts before any greeting.
TEST(FtpStage, OffByDefault) {
  EngineHarness h(EngineConfig{});
  h.handshake();
  h.send(Dir::C2S, "PORT 198,18,0,2,195,80\r\n");
  EXPECT_EQ(h.events.back().verdict, Verdict::Admit);
}

}  // namespace
}  // namespace ftpalg::test
