// `ftpalg status` (src/cli/status_cmd.cc): the text of a status and a session response, the
// daemon's errors in plain words, and a missing socket.
#include "cli/status_cmd.h"

#include <gtest/gtest.h>

#include <string>

namespace ftpalg::test {
namespace {

constexpr const char* kSession =
    R"({"flow":"198.18.1.2:40000-198.19.1.2:21","client":"198.18.1.2:40000",)"
    R"("server":"198.19.1.2:21","nat":{"resolved":true,"client_inside":"198.18.1.2",)"
    R"("client_outside":"198.18.1.2","server_inside":"198.18.1.10","server_outside":"198.19.1.2"},)"
    R"("kernel_mode":"pinhole","login":"logged_in","state":"established","epsv_all":false,)"
    R"("idle_s":0.5,"expires_in_s":3599.5,"rewrites":1,)"
    R"("c2s":{"bytes":40,"offset":0,"live_splices":0,"holding":false,"fin":false,"opaque":false},)"
    R"("s2c":{"bytes":167,"offset":1,"live_splices":1,"holding":false,"fin":false,"opaque":false},)"
    R"("announcements_total":1,"announcements":[{"dir":"s2c","admit":"pinhole",)"
    R"("src":"198.18.1.2","src_port":"any","dst":"198.18.1.10:40032","nat_to":"198.19.1.2:40032",)"
    R"("awaiting_reply":false,"expires_in_s":28.5}]})";

std::string statusDoc() {
  return std::string(R"({"schema":1,"daemon":{"pid":42,"kernel_mode":"pinhole","uptime_s":3.0,)"
                     R"("worker_timeout_ms":2000},"queues":[{"queue":0,"answered":true,)"
                     R"("load":{"packets":13,"held":0,"sessions":1,"overruns":0},)"
                     R"("counters":{"worker":{"packets":13,"admitted":1,"dropped":0},)"
                     R"("engine":{"rewrites":1}},"sessions_total":1,"sessions":[)") +
         kSession +
         R"(]},{"queue":1,"answered":false,"error":"queue 1 did not answer within 2000 ms",)"
         R"("load":{"packets":0},"counters":{"worker":{"packets":0}}}]})";
}

TEST(StatusCmd, StatusText) {
  std::string out;
  ASSERT_TRUE(cli::renderStatus(statusDoc(), out).ok()) << out;
  EXPECT_NE(out.find("ftpalgd pid 42, kernel mode pinhole"), std::string::npos) << out;
  EXPECT_NE(out.find("ftp q0 198.18.1.2:40000 -> 198.19.1.2:21 established login=logged_in "
                     "mode=pinhole nat=198.18.1.2->198.18.1.2/198.18.1.10->198.19.1.2 "
                     "bytes=40/167 rewrites=1 offset=+0/+1 splices=0/1 idle=0.5s "
                     "expires=3599.5s announcements=1 [s2c pinhole 198.18.1.2:any->"
                     "198.18.1.10:40032 nat_to=198.19.1.2:40032 expires=28.5s]\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1 sessions"), std::string::npos) << out;
  EXPECT_NE(out.find("queue 0: packets=13 sessions=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  counters worker: packets=13 admitted=1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  counters engine: rewrites=1\n"), std::string::npos) << out;  // any group
  EXPECT_NE(out.find("queue 1: all zero NOT ANSWERING: queue 1 did not answer"), std::string::npos)
      << out;
}

TEST(StatusCmd, SessionText) {
  const std::string doc =
      std::string(R"({"schema":1,"flow":"198.18.1.2:40000-198.19.1.2:21","found":true,)"
                  R"("queues":[{"queue":0,"answered":true,"session":)") +
      kSession +
      R"(,"events":[{"ts":1.5,"kind":"pasv227","verdict":"admit"}],"events_dropped":2}]})";
  std::string out;
  ASSERT_TRUE(cli::renderSession(doc, out).ok()) << out;
  EXPECT_NE(out.find("ftp q0 198.18.1.2:40000 -> "), std::string::npos) << out;
  EXPECT_NE(out.find("recent events (2 older dropped):\n"
                     "  {\"ts\":1.5,\"kind\":\"pasv227\",\"verdict\":\"admit\"}\n"),
            std::string::npos)
      << out;
  out.clear();
  const Status s = cli::renderSession(
      R"({"schema":1,"flow":"198.18.1.2:1-198.19.1.2:21","found":false,"queues":[]})", out);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "no session 198.18.1.2:1-198.19.1.2:21 and no recent events of it");
}

TEST(StatusCmd, ErrorsInPlainWords) {
  std::string out;
  Status s = cli::renderStatus(
      R"({"schema":1,"error":{"code":"forbidden","message":"permission denied"}})", out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("permission denied: root or a member of ftpalgd's control_group"),
            std::string::npos);
  s = cli::renderStatus("not json", out);
  EXPECT_FALSE(s.ok());
  s = cli::renderStatus(R"({"schema":1,"daemon":{}})", out);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unexpected status JSON"), std::string::npos) << s.message();
}

TEST(StatusCmd, MissingSocket) {
  std::string out;
  const Status s = cli::queryControl("/nonexistent/ftpalg/control.sock", "status", 1000, out);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(
      s.message().rfind(
          "ftpalgd not running or control socket at /nonexistent/ftpalg/control.sock absent", 0),
      0u)
      << s.message();
}

}  // namespace
}  // namespace ftpalg::test
