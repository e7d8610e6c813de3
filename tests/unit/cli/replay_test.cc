// End to end: the sample capture through CaptureReader, the engine, FrameOutput and the event
// sink, checked from the written capture and events file.
#include "cli/replay.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"
#include "tests/unit/cli/capture_test_util.h"

namespace ftpalg::test {

using namespace ftpalg::cli;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

const std::string kSample =
    (std::filesystem::path(FTPALG_TEST_DATA_DIR) / "sample-ftp.pcap").string();

// Frame numbers (1-based) in sample-ftp.pcap.
constexpr size_t kPortFrame = 9;
constexpr size_t kClientFinFrame = 18;
constexpr size_t kLastAckFrame = 19;

std::string_view payloadText(const ReadFrame& f) {
  const core::PacketParse p = core::parsePacket(f.ip);
  EXPECT_EQ(p.error, core::PacketError::None);
  return {reinterpret_cast<const char*>(p.view.payload.data()), p.view.payload.size()};
}

core::PacketView viewOf(const ReadFrame& f) { return core::parsePacket(f.ip).view; }

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<ReadFrame> framesOf(const std::string& path, int* dlt = nullptr) {
  CaptureReader reader;
  auto frames = readAll(reader, path);
  if (dlt != nullptr) *dlt = reader.dlt();
  return frames;
}

// Replay of `in` into out.pcap in `dir`; with `snat`, the client 198.18.0.2 behind source NAT to
// 198.51.100.7.
ReplayOptions replayInto(const TempDir& dir, const std::string& in, bool snat) {
  ReplayOptions o;
  o.inPath = in;
  o.outPath = dir.file("out.pcap");
  if (snat) o.snat = {"198.18.0.2=198.51.100.7"};
  return o;
}

TEST(Replay, SampleWithSnatRewritesPort) {
  TempDir dir;
  ReplayOptions o = replayInto(dir, kSample, /*snat=*/true);
  o.eventsPath = dir.file("events.jsonl");
  ReplayReport report;
  const Status s = runReplay(o, report);
  ASSERT_TRUE(s.ok()) << s.message();

  const auto in = framesOf(kSample);
  const auto out = framesOf(o.outPath);
  ASSERT_EQ(in.size(), 19u);
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(payloadText(in[kPortFrame - 1]), "PORT 198,18,0,2,195,80\r\n");
  EXPECT_EQ(payloadText(out[kPortFrame - 1]), "PORT 198,51,100,7,195,80\r\n");
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].link, in[i].link) << "frame " << i + 1;
    EXPECT_EQ(out[i].tsNs, in[i].tsNs) << "frame " << i + 1;
    const core::PacketParse p = core::parsePacket(out[i].ip);
    ASSERT_EQ(p.error, core::PacketError::None) << "frame " << i + 1;
    EXPECT_TRUE(core::tcpChecksumValid(out[i].ip, p.view)) << "frame " << i + 1;
  }
  // The PORT line grew by 2 bytes: later client sequence numbers and the server's
  // acknowledgements of them move by 2.
  EXPECT_EQ(viewOf(out[kClientFinFrame - 1]).seq, viewOf(in[kClientFinFrame - 1]).seq + 2);
  EXPECT_EQ(viewOf(out[kLastAckFrame - 1]).ack, viewOf(in[kLastAckFrame - 1]).ack + 2);

  const auto events = lines(o.eventsPath);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0],
            R"({"ts":1700000000.020000,"flow":"198.18.0.2:45000-198.19.0.2:21","dir":"c2s",)"
            R"("kind":"port","announced":"198.18.0.2:50000","rewritten":"198.51.100.7:50000",)"
            R"("expect":{"proto":"tcp","src":"198.19.0.2","src_port":"any",)"
            R"("dst":"198.51.100.7:50000","nat_to":"198.18.0.2:50000"},"verdict":"admit",)"
            R"("reason":"rewritten"})");
  EXPECT_NE(events[1].find(R"("kind":"pasv227","announced":"198.19.0.2:40000")"),
            std::string::npos);
  EXPECT_NE(events[2].find(R"("kind":"epsv229","announced":"198.19.0.2:40001")"),
            std::string::npos);

  EXPECT_EQ(report.framesRead, 19u);
  EXPECT_EQ(report.output.written, 19u);
  EXPECT_EQ(report.output.dropped, 0u);
  EXPECT_EQ(report.output.heldAtEnd, 0u);
  EXPECT_EQ(report.control, 19u);
  EXPECT_EQ(report.events, 3u);
  EXPECT_EQ(report.counters[static_cast<size_t>(core::Counter::Sessions)], 1u);
  EXPECT_EQ(report.counters[static_cast<size_t>(core::Counter::Rewrites)], 1u);
  EXPECT_TRUE(report.captureError.empty());
}

TEST(Replay, SampleWithoutNatIsUnchanged) {
  TempDir dir;
  ReplayOptions o = replayInto(dir, kSample, /*snat=*/false);
  ReplayReport report;
  ASSERT_TRUE(runReplay(o, report).ok());
  const auto in = framesOf(kSample);
  const auto out = framesOf(o.outPath);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].data, in[i].data) << i + 1;
  EXPECT_EQ(report.events, 3u);
  EXPECT_EQ(report.eventsBy[static_cast<size_t>(core::EventKind::Port)]
                           [static_cast<size_t>(core::Verdict::Admit)],
            1u);
}

TEST(Replay, OtherLinkTypeAndControlPort) {
  // The sample re-framed as Linux cooked v2 with the server moved to port 2121.
  TempDir dir;
  std::vector<TestFrame> frames;
  for (const ReadFrame& f : framesOf(kSample)) {
    std::vector<uint8_t> ip = f.ip;
    // Replace port 21 by 2121 in the TCP header and fix the checksum incrementally (RFC 1624).
    const size_t tcp = size_t{ip[0] & 0x0fu} * 4;
    for (size_t at : {tcp, tcp + 2}) {
      if (ip[at] == 0 && ip[at + 1] == 21) {
        ip[at] = 0x08;
        ip[at + 1] = 0x49;
        uint32_t sum = static_cast<uint32_t>(~((ip[tcp + 16] << 8) | ip[tcp + 17]) & 0xffff);
        sum += (~21u & 0xffff) + 2121;
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        const auto check = static_cast<uint16_t>(~sum);
        ip[tcp + 16] = static_cast<uint8_t>(check >> 8);
        ip[tcp + 17] = static_cast<uint8_t>(check);
      }
    }
    const std::vector<uint8_t> sll2{0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1,
                                    0,    6,    1, 2, 3, 4, 5, 6, 0, 0};
    frames.push_back({concat({sll2, ip}), f.tsNs, 0});
  }
  writeCapture(dir.file("in.pcap"), DLT_LINUX_SLL2, frames);

  ReplayOptions o = replayInto(dir, dir.file("in.pcap"), /*snat=*/true);
  ReplayReport report;
  ASSERT_TRUE(runReplay(o, report).ok());
  EXPECT_EQ(report.control, 0u);  // 2121 is not a control port by default
  EXPECT_EQ(report.nonControl, 19u);

  o.ports = {"2121"};
  ASSERT_TRUE(runReplay(o, report).ok());
  EXPECT_EQ(report.control, 19u);
  int dlt = 0;
  const auto out = framesOf(o.outPath, &dlt);
  EXPECT_EQ(dlt, DLT_LINUX_SLL2);
  ASSERT_EQ(out.size(), 19u);
  EXPECT_EQ(out[kPortFrame - 1].link.size(), 20u);
  EXPECT_EQ(payloadText(out[kPortFrame - 1]), "PORT 198,51,100,7,195,80\r\n");
  EXPECT_TRUE(core::tcpChecksumValid(out[kPortFrame - 1].ip, viewOf(out[kPortFrame - 1])));
}

TEST(Replay, DamagedCaptureIsProcessedUpToTheDamage) {
  TempDir dir;
  auto bytes = readFile(kSample);
  bytes.resize(bytes.size() - 30);  // the last record loses its TCP header
  writeFile(dir.file("cut.pcap"), bytes);
  ReplayOptions o = replayInto(dir, dir.file("cut.pcap"), /*snat=*/false);
  o.eventsPath = dir.file("events.jsonl");
  ReplayReport report;
  ASSERT_TRUE(runReplay(o, report).ok());
  EXPECT_EQ(report.framesRead, 18u);
  EXPECT_FALSE(report.captureError.empty());
  EXPECT_EQ(framesOf(o.outPath).size(), 18u);
  EXPECT_EQ(lines(o.eventsPath).size(), 3u);
  const std::string summary = formatSummary(report);
  EXPECT_NE(summary.find("capture damage: 0 truncated frames; read stopped after frame 18: "),
            std::string::npos)
      << summary;
}

TEST(Replay, NonIpAndNonTcpFramesPassThrough) {
  TempDir dir;
  std::vector<TestFrame> frames;
  const std::vector<uint8_t> arp =
      concat({{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x06}, std::vector<uint8_t>(28, 0)});
  // IPv4 header of a UDP packet (protocol 17) with 8 bytes of UDP header.
  std::vector<uint8_t> udp{0x45, 0, 0,  28, 0, 0, 0, 0,  64, 17, 0, 0, 10, 0,
                           0,    1, 10, 0,  0, 2, 0, 53, 0,  53, 0, 8, 0,  0};
  frames.push_back({arp, 1000, 0});
  frames.push_back({concat({{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00}, udp}), 2000, 0});
  writeCapture(dir.file("in.pcap"), DLT_EN10MB, frames);
  ReplayOptions o = replayInto(dir, dir.file("in.pcap"), /*snat=*/false);
  ReplayReport report;
  ASSERT_TRUE(runReplay(o, report).ok());
  EXPECT_EQ(report.nonIp, 1u);
  EXPECT_EQ(report.packetErrors[static_cast<size_t>(core::PacketError::NotTcp)], 1u);
  const auto out = framesOf(o.outPath);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, arp);
  const std::string summary = formatSummary(report);
  EXPECT_NE(summary.find("packet errors: not_tcp 1\n"), std::string::npos) << summary;
}

TEST(Replay, Errors) {
  TempDir dir;
  ReplayReport report;
  ReplayOptions o;
  o.inPath = dir.file("missing.pcap");
  EXPECT_EQ(runReplay(o, report).message().rfind("cannot read " + o.inPath + ": ", 0), 0u);

  o.inPath = kSample;
  o.snat = {"198.18.0.2"};
  EXPECT_EQ(runReplay(o, report).message(), "--snat 198.18.0.2: expected ADDRESS=ADDRESS");

  o.snat.clear();
  o.eventsPath = "/nonexistent/ftpalg/events.jsonl";
  EXPECT_EQ(runReplay(o, report).message().rfind("cannot write /nonexistent/", 0), 0u);

  o.eventsPath = "-";
  o.outPath = "-";
  EXPECT_EQ(runReplay(o, report).message(), "--out and --events cannot both be stdout");
}

TEST(Replay, Summary) {
  ReplayOptions o;
  o.inPath = kSample;
  o.snat = {"198.18.0.2=198.51.100.7"};
  ReplayReport report;
  ASSERT_TRUE(runReplay(o, report).ok());
  const std::string summary = formatSummary(report);
  EXPECT_EQ(summary.rfind("ftpalg replay: " + kSample +
                              " (ethernet): 19 frames read, 0 dropped, 0 held at end\n",
                          0),
            0u)
      << summary;
  EXPECT_NE(summary.find("  control flows: 1\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("  events: 3 (port admit 1, pasv227 admit 1, epsv229 admit 1)\n"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("rewrites 1"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("packet errors"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("capture damage"), std::string::npos) << summary;
}

TEST(Replay, PortLineSplitAcrossSegmentsIsHeldAndRewritten) {
  // The sample with its PORT line sent as "PORT 198,1" + "8,0,2,195,80\r\n".
  TempDir dir;
  const auto in = framesOf(kSample);
  std::vector<TestFrame> frames;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i + 1 != kPortFrame) {
      frames.push_back({in[i].data, in[i].tsNs, 0});
      continue;
    }
    const core::PacketView v = viewOf(in[i]);
    const std::string_view text = "PORT 198,18,0,2,195,80\r\n";
    const size_t cut = 10;
    for (const auto& [offset, part] :
         {std::pair<size_t, std::string_view>{0, text.substr(0, cut)}, {cut, text.substr(cut)}}) {
      const auto ip = ftpalg::test::PacketBuilder()
                          .v4({v.src, v.sport}, {v.dst, v.dport})
                          .seq(v.seq + static_cast<uint32_t>(offset))
                          .ack(v.ack)
                          .flags(v.flags)
                          .payload(part)
                          .build();
      frames.push_back({concat({in[i].link, ip}), in[i].tsNs + offset, 0});
    }
  }
  writeCapture(dir.file("split.pcap"), DLT_EN10MB, frames);

  ReplayOptions o = replayInto(dir, dir.file("split.pcap"), /*snat=*/true);
  ReplayReport report;
  ASSERT_TRUE(runReplay(o, report).ok());
  EXPECT_EQ(report.framesRead, 20u);
  EXPECT_EQ(report.output.held, 1u);  // "PORT 198,1" cannot be forwarded before the rest
  EXPECT_EQ(report.output.heldAtEnd, 0u);
  EXPECT_EQ(report.output.rewriteFailed, 0u);
  EXPECT_EQ(report.output.unknownHandle, 0u);
  EXPECT_EQ(report.output.missingVerdict, 0u);

  const auto out = framesOf(o.outPath);
  std::string clientStream;
  uint64_t lastTs = 0;
  for (const ReadFrame& f : out) {
    const core::PacketParse p = core::parsePacket(f.ip);
    ASSERT_EQ(p.error, core::PacketError::None);
    EXPECT_TRUE(core::tcpChecksumValid(f.ip, p.view));
    EXPECT_GE(f.tsNs, lastTs);
    lastTs = f.tsNs;
    if (p.view.sport == 45000) clientStream += payloadText(f);
  }
  EXPECT_NE(clientStream.find("\r\nPORT 198,51,100,7,195,80\r\nPASV\r\n"), std::string::npos)
      << clientStream;
}

}  // namespace
}  // namespace ftpalg::test
