#include "ftpalg/report/event_json.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
namespace {

using ftpalg::report::appendEventJson;
using ftpalg::report::JsonWriter;

std::string str(const fmt::memory_buffer& b) { return fmt::to_string(b); }

TEST(JsonWriter, ObjectsArraysAndCommas) {
  fmt::memory_buffer out;
  JsonWriter w(out);
  w.beginObject();
  w.key("a");
  w.number(uint64_t{1});
  w.key("b");
  w.beginArray();
  w.number(int64_t{-2});
  w.boolean(true);
  w.null();
  w.beginObject();
  w.endObject();
  w.beginArray();
  w.endArray();
  w.string("x");
  w.endArray();
  w.key("c");
  w.beginObject();
  w.key("d");
  w.boolean(false);
  w.endObject();
  w.endObject();
  EXPECT_EQ(str(out), R"({"a":1,"b":[-2,true,null,{},[],"x"],"c":{"d":false}})");
}

TEST(JsonWriter, Fixed) {
  fmt::memory_buffer out;
  JsonWriter w(out);
  w.beginArray();
  w.fixed(1700000000000123, 6);
  w.fixed(0, 6);
  w.fixed(42, 0);
  w.fixed(5, 3);
  w.endArray();
  EXPECT_EQ(str(out), "[1700000000.000123,0.000000,42,0.005]");
}

TEST(JsonWriter, EscapesPerRfc8259) {
  fmt::memory_buffer out;
  JsonWriter w(out);
  static constexpr char kText[] = "q\" b\\ / \b\f\n\r\t \x01\x1f\x7f end\0";
  w.string(std::string_view(kText, sizeof kText - 1));
  EXPECT_EQ(str(out), R"("q\" b\\ / \b\f\n\r\t \u0001\u001f\u007f end\u0000")");
}

TEST(JsonWriter, EscapesKeys) {
  fmt::memory_buffer out;
  JsonWriter w(out);
  w.beginObject();
  w.key("a\"b");
  w.null();
  w.endObject();
  EXPECT_EQ(str(out), R"({"a\"b":null})");
}

TEST(JsonWriter, ValidUtf8PassesThrough) {
  fmt::memory_buffer out;
  JsonWriter w(out);
  w.string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(str(out), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  const struct {
    std::string_view in;
    const char* want;
  } cases[] = {
      {"\xff", R"("\ufffd")"},
      {"a\x80z", R"("a\ufffdz")"},
      {"\xc0\x80", R"("\ufffd\ufffd")"},                      // overlong NUL
      {"\xe0\x80\x80", R"("\ufffd\ufffd\ufffd")"},            // overlong 3-byte
      {"\xed\xa0\x80", R"("\ufffd\ufffd\ufffd")"},            // UTF-16 surrogate
      {"\xf4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // above U+10FFFF
      {"\xe2\x82", R"("\ufffd\ufffd")"},                      // cut short at the end
      {"\xe2\x82x", R"("\ufffd\ufffdx")"},
  };
  for (const auto& c : cases) {
    fmt::memory_buffer out;
    JsonWriter w(out);
    w.string(c.in);
    EXPECT_EQ(str(out), c.want);
  }
}

// An event of the control connection client-server with what every event carries.
core::Event event(uint64_t tsNs, std::string_view client, std::string_view server, core::Dir dir,
                  core::EventKind kind, core::Verdict verdict, core::Reason reason) {
  core::Event e;
  e.tsNs = tsNs;
  e.flow = {endpoint(client), endpoint(server)};
  e.dir = dir;
  e.kind = kind;
  e.verdict = verdict;
  e.reason = reason;
  return e;
}

// `e` announcing `announced`, with the expectation src (any port) -> dst, reaching natTo.
core::Event withExpect(core::Event e, std::string_view announced, core::Endpoint src,
                       std::string_view dst, std::string_view natTo) {
  e.hasAnnounced = true;
  e.announced = endpoint(announced);
  e.hasExpect = true;
  e.expect.src = src;
  e.expect.srcPortAny = true;
  e.expect.dst = endpoint(dst);
  e.expect.natTo = endpoint(natTo);
  return e;
}

core::Event portEvent() {
  core::Event e = withExpect(
      event(1'700'000'000'000'123'456ULL, "10.0.0.2:40000", "192.0.2.1:21", core::Dir::C2S,
            core::EventKind::Port, core::Verdict::Admit, core::Reason::Rewritten),
      "10.0.0.2:50000", endpoint("192.0.2.1", 0), "198.51.100.7:50000", "10.0.0.2:50000");
  e.hasRewritten = true;
  e.rewritten = endpoint("198.51.100.7:50000");
  return e;
}

std::string json(const core::Event& e) {
  fmt::memory_buffer out;
  appendEventJson(e, out);
  return str(out);
}

TEST(EventJson, RewrittenPort) {
  EXPECT_EQ(json(portEvent()),
            R"({"ts":1700000000.000123,"flow":"10.0.0.2:40000-192.0.2.1:21","dir":"c2s",)"
            R"("kind":"port","announced":"10.0.0.2:50000","rewritten":"198.51.100.7:50000",)"
            R"("expect":{"proto":"tcp","src":"192.0.2.1","src_port":"any",)"
            R"("dst":"198.51.100.7:50000","nat_to":"10.0.0.2:50000"},"verdict":"admit",)"
            R"("reason":"rewritten"})");
}

TEST(EventJson, SourceNatTargetOnlyWhenSet) {
  core::Event e = portEvent();
  e.expect.hasSrcNat = true;
  e.expect.srcNatTo = ipFromText("203.0.113.21");
  const std::string with = json(e);
  EXPECT_NE(with.find(R"("nat_to":"10.0.0.2:50000","src_nat_to":"203.0.113.21"},)"),
            std::string::npos)
      << with;
  const std::string without = json(portEvent());
  EXPECT_EQ(without.find("src_nat_to"), std::string::npos) << without;
}

TEST(EventJson, FixedSourcePort) {
  core::Event e = portEvent();
  e.expect.srcPortAny = false;
  e.expect.src.port = 20;
  const std::string s = json(e);
  EXPECT_NE(s.find(R"("src":"192.0.2.1","src_port":20,)"), std::string::npos) << s;
}

TEST(EventJson, Ipv6Epsv229WithoutNat) {
  core::Event e =
      withExpect(event(5'000'000'001, "[2001:db8::1]:40000", "[2001:db8::2]:21", core::Dir::S2C,
                       core::EventKind::Epsv229, core::Verdict::Admit, core::Reason::Ok),
                 "[2001:db8::2]:6446", endpoint("[2001:db8::1]:0"), "[2001:db8::2]:6446",
                 "[2001:db8::2]:6446");
  EXPECT_EQ(json(e),
            R"({"ts":5.000000,"flow":"[2001:db8::1]:40000-[2001:db8::2]:21","dir":"s2c",)"
            R"("kind":"epsv229","announced":"[2001:db8::2]:6446","rewritten":null,)"
            R"("expect":{"proto":"tcp","src":"2001:db8::1","src_port":"any",)"
            R"("dst":"[2001:db8::2]:6446","nat_to":"[2001:db8::2]:6446"},"verdict":"admit",)"
            R"("reason":"ok"})");
}

TEST(EventJson, MalformedCarriesParseError) {
  core::Event e =
      event(1'000, "10.0.0.2:40000", "192.0.2.1:21", core::Dir::C2S, core::EventKind::Malformed,
            core::Verdict::Refuse, core::Reason::ParseFailed);
  e.parseError = core::ParseError::OctetOutOfRange;
  EXPECT_EQ(json(e),
            R"({"ts":0.000001,"flow":"10.0.0.2:40000-192.0.2.1:21","dir":"c2s",)"
            R"("kind":"malformed","announced":null,"rewritten":null,"expect":null,)"
            R"("verdict":"refuse","reason":"parse_failed","parse_error":"octet_out_of_range"})");
}

TEST(EventJson, AppendsToWhatIsThere) {
  fmt::memory_buffer out;
  appendEventJson(portEvent(), out);
  out.push_back('\n');
  appendEventJson(portEvent(), out);
  const std::string s = str(out);
  const size_t nl = s.find('\n');
  ASSERT_NE(nl, std::string::npos);
  EXPECT_EQ(s.substr(0, nl), s.substr(nl + 1));
}

}  // namespace
}  // namespace ftpalg::test
