// The JSON of `ftpalg status` (src/daemon/status_json.cc), parsed back with a real JSON parser:
// a session with offsets and an outstanding announcement, the queue objects (load, counter
// groups, a queue that did not answer), the session answer with its events, and errors.
#include "daemon/status_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/engine_harness.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using core::Dir;
using Json = nlohmann::json;

// A logged-in session whose 227 was rewritten one byte longer (198.19.0.2 -> 198.18.0.10).
void rewritten227(EngineHarness& h) {
  h.setNat(core::NatBinding{h.client().addr, h.client().addr, ipFromText("198.18.0.10"),
                            h.server().addr});
  h.handshake();
  h.send(Dir::S2C, "220 ready\r\n");
  h.send(Dir::C2S, "USER ftp\r\n");
  h.send(Dir::S2C, "230 ok\r\n");
  h.send(Dir::C2S, "PASV\r\n");
  h.send(Dir::S2C, "227 Entering Passive Mode (198,19,0,2,156,64)\r\n");
}

Json members(const std::string& m) {
  Json j = Json::parse("{" + m + "}", nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << m;
  return j;
}

TEST(StatusJson, SessionsAnswer) {
  EngineHarness h{core::EngineConfig{}};
  rewritten227(h);
  const Json j = members(daemon::sessionsAnswer(h.engine(), h.nowNs, "pinhole"));
  EXPECT_EQ(j["sessions_total"], 1);
  ASSERT_EQ(j["sessions"].size(), 1u);
  const Json& s = j["sessions"][0];
  EXPECT_EQ(s["flow"], "198.18.0.2:40000-198.19.0.2:21") << s.dump();
  EXPECT_EQ(s["client"], "198.18.0.2:40000");
  EXPECT_EQ(s["server"], "198.19.0.2:21");
  EXPECT_EQ(s["nat"]["server_inside"], "198.18.0.10");
  EXPECT_EQ(s["nat"]["resolved"], true);
  EXPECT_EQ(s["kernel_mode"], "pinhole");
  EXPECT_EQ(s["login"], "logged_in");
  EXPECT_EQ(s["state"], "established");
  EXPECT_EQ(s["rewrites"], 1);
  EXPECT_EQ(s["c2s"]["offset"], 0);
  EXPECT_EQ(s["s2c"]["offset"], 1);
  EXPECT_GT(s["s2c"]["bytes"].get<uint64_t>(), 40u);
  EXPECT_EQ(s["announcements_total"], 1);
  ASSERT_EQ(s["announcements"].size(), 1u);
  const Json& a = s["announcements"][0];
  EXPECT_EQ(a["dir"], "s2c");
  EXPECT_EQ(a["admit"], "pinhole");
  EXPECT_EQ(a["src"], "198.18.0.2");
  EXPECT_EQ(a["src_port"], "any");
  EXPECT_EQ(a["dst"], "198.18.0.10:40000");
  EXPECT_EQ(a["nat_to"], "198.19.0.2:40000");
  EXPECT_EQ(a["awaiting_reply"], false);
  EXPECT_GT(a["expires_in_s"].get<double>(), 29.0);
  EXPECT_GT(s["expires_in_s"].get<double>(), 3599.0);
}

TEST(StatusJson, StatusResponseQueues) {
  daemon::WorkerStats stats;
  stats.packets = 7;
  stats.held = 2;
  stats.overruns = 1;
  const daemon::DaemonInfo info{123, "pinhole", 2'500'000'000, 2000};
  daemon::StatsSnapshot engine;
  daemon::EngineStats published;
  published.counters[static_cast<size_t>(core::Counter::Segments)] = 11;
  published.announcements = 2;
  engine.publish(published);
  std::vector<daemon::QueueAnswer> answers = {
      {3, &stats, true, R"("sessions_total":0,"sessions":[])", &engine},
      {4, &stats, false, "ignored", &engine},
  };
  const Json j = Json::parse(daemon::statusResponse(info, answers), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["schema"], 1);
  EXPECT_EQ(j["daemon"]["pid"], 123);
  EXPECT_EQ(j["daemon"]["uptime_s"], 2.5);
  ASSERT_EQ(j["queues"].size(), 2u);
  const Json& q = j["queues"][0];
  EXPECT_EQ(q["queue"], 3);
  EXPECT_EQ(q["answered"], true);
  EXPECT_EQ(q["load"]["packets"], 7);
  EXPECT_EQ(q["load"]["held"], 2);
  EXPECT_EQ(q["load"]["overruns"], 1);
  EXPECT_EQ(q["load"]["sessions"], 0);
  EXPECT_EQ(q["counters"]["worker"]["packets"], 7);
  // every WorkerStats member
  EXPECT_EQ(q["counters"]["worker"].size(), sizeof(daemon::WorkerStats) / sizeof(uint64_t));
  EXPECT_EQ(q["counters"]["engine"]["segments"], 11);
  EXPECT_EQ(q["counters"]["engine"]["announcements_outstanding"], 2);
  EXPECT_EQ(q["counters"]["engine"].size(), static_cast<size_t>(core::Counter::Count) + 1);
  EXPECT_EQ(q["sessions"].size(), 0u);
  const Json& stuck = j["queues"][1];
  EXPECT_EQ(stuck["answered"], false);
  EXPECT_FALSE(stuck.contains("sessions"));
  EXPECT_NE(stuck["error"].get<std::string>().find("did not answer within 2000 ms"),
            std::string::npos);
  EXPECT_EQ(stuck["counters"]["worker"]["packets"], 7);    // read without the worker
  EXPECT_EQ(stuck["counters"]["engine"]["segments"], 11);  // the last published copy
}

TEST(StatusJson, SessionAnswerWithEvents) {
  EngineHarness h{core::EngineConfig{}};
  rewritten227(h);
  daemon::RecentEvents recent;
  for (const core::Event& e : h.events) recent.record(e);
  const core::FlowKey flow{h.client(), h.server()};
  const Json j = members(daemon::sessionAnswer(h.engine(), recent, flow, h.nowNs, 1000, "pinhole"));
  EXPECT_EQ(j["session"]["s2c"]["offset"], 1);
  ASSERT_EQ(j["events"].size(), h.events.size());
  EXPECT_EQ(j["events"].back()["kind"], "pasv227");
  EXPECT_EQ(j["events"].back()["reason"], "rewritten");
  EXPECT_EQ(j["events_dropped"], 0);
  core::FlowKey other = flow;
  other.client.port = 1;
  EXPECT_EQ(daemon::sessionAnswer(h.engine(), recent, other, h.nowNs, 0, "pinhole"), "");

  daemon::WorkerStats stats;
  const Json r =
      Json::parse(daemon::sessionResponse(
                      daemon::DaemonInfo{}, flow,
                      {{0, &stats, true, ""},
                       {1, &stats, true, R"("session":null,"events":[],"events_dropped":0)"}}),
                  nullptr, false);
  EXPECT_EQ(r["found"], true);
  ASSERT_EQ(r["queues"].size(), 1u);
  EXPECT_EQ(r["queues"][0]["queue"], 1);
}

TEST(StatusJson, ErrorResponse) {
  const Json j = Json::parse(daemon::errorResponse("forbidden", "no \"you\""), nullptr, false);
  EXPECT_EQ(j["schema"], 1);
  EXPECT_EQ(j["error"]["code"], "forbidden");
  EXPECT_EQ(j["error"]["message"], "no \"you\"");
}

}  // namespace
}  // namespace ftpalg::test
