#include "cli/capture_reader.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "cli/capture_writer.h"
#include "tests/support/packet_builder.h"
#include "tests/unit/cli/capture_test_util.h"

namespace ftpalg::test {

using namespace ftpalg::cli;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

constexpr uint64_t kT0 = 1'700'000'000'123'456'789ULL;

std::vector<uint8_t> ipv4Packet(std::string_view payload = "USER anonymous\r\n") {
  return PacketBuilder()
      .v4(endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21"))
      .seq(100)
      .ack(200)
      .payload(payload)
      .build();
}

std::vector<uint8_t> ipv6Packet() {
  return PacketBuilder()
      .v6(endpoint("[2001:db8::1]:40000"), endpoint("[2001:db8::2]:21"))
      .payload("EPSV\r\n")
      .build();
}

const std::vector<uint8_t> kEther{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00};

// Writes one IPv4 and one IPv6 frame with the given link headers and checks what comes back.
void roundTrip(int dlt, const std::vector<uint8_t>& link4, const std::vector<uint8_t>& link6) {
  TempDir dir;
  const std::string path = dir.file("in.pcap");
  const auto ip4 = ipv4Packet();
  const auto ip6 = ipv6Packet();
  writeCapture(path, dlt, {{concat({link4, ip4}), kT0, 0}, {concat({link6, ip6}), kT0 + 1000, 0}});
  CaptureReader reader;
  ReadResult last{};
  const std::vector<ReadFrame> frames = readAll(reader, path, &last);
  EXPECT_EQ(last, ReadResult::End);
  EXPECT_EQ(reader.dlt(), dlt);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].number, 1u);
  EXPECT_EQ(frames[0].tsNs, kT0);
  EXPECT_EQ(frames[0].link, link4);
  EXPECT_EQ(frames[0].ip, ip4);
  EXPECT_EQ(frames[1].number, 2u);
  EXPECT_EQ(frames[1].tsNs, kT0 + 1000);
  EXPECT_EQ(frames[1].link, link6);
  EXPECT_EQ(frames[1].ip, ip6);
  EXPECT_EQ(reader.framesRead(), 2u);
  EXPECT_EQ(reader.truncatedFrames(), 0u);
  EXPECT_TRUE(reader.error().empty());
}

TEST(CaptureReader, Ethernet) {
  roundTrip(DLT_EN10MB, kEther, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd});
}

TEST(CaptureReader, EthernetDoubleVlan) {
  const std::vector<uint8_t> qinq{0,  1,    2,    3, 4,  5,    6,    7, 8,  9,    10,
                                  11, 0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x08, 0x00};
  const std::vector<uint8_t> dot1q{0, 1,  2,  3,    4,    5, 6,  7,    8,
                                   9, 10, 11, 0x81, 0x00, 0, 30, 0x86, 0xdd};
  roundTrip(DLT_EN10MB, qinq, dot1q);
}

TEST(CaptureReader, LinuxCookedV1) {
  roundTrip(DLT_LINUX_SLL, {0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00},
            {0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd});
}

TEST(CaptureReader, LinuxCookedV2) {
  roundTrip(DLT_LINUX_SLL2, {0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0},
            {0x86, 0xdd, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0});
}

TEST(CaptureReader, Raw) { roundTrip(DLT_RAW, {}, {}); }

TEST(CaptureReader, Ipv4AndIpv6LinkTypes) {
  {
    TempDir dir;
    writeCapture(dir.file("v4.pcap"), DLT_IPV4, {{ipv4Packet(), kT0, 0}});
    CaptureReader reader;
    const auto frames = readAll(reader, dir.file("v4.pcap"));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_TRUE(frames[0].link.empty());
    EXPECT_EQ(frames[0].ip, ipv4Packet());
  }
  {
    TempDir dir;
    writeCapture(dir.file("v6.pcap"), DLT_IPV6, {{ipv6Packet(), kT0, 0}});
    CaptureReader reader;
    const auto frames = readAll(reader, dir.file("v6.pcap"));
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].ip, ipv6Packet());
  }
}

TEST(CaptureReader, BsdNull) { roundTrip(DLT_NULL, {2, 0, 0, 0}, {30, 0, 0, 0}); }

TEST(CaptureReader, BsdLoop) { roundTrip(DLT_LOOP, {0, 0, 0, 2}, {0, 0, 0, 24}); }

TEST(CaptureReader, MicrosecondTimestampsBecomeNanoseconds) {
  TempDir dir;
  writeCapture(dir.file("us.pcap"), DLT_RAW, {{ipv4Packet(), kT0, 0}}, /*nano=*/false);
  CaptureReader reader;
  const auto frames = readAll(reader, dir.file("us.pcap"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].tsNs, kT0 / 1000 * 1000);
}

TEST(CaptureReader, NonIpFrameHasNoIpSpan) {
  TempDir dir;
  const auto arp =
      concat({{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x06}, std::vector<uint8_t>(28, 0)});
  writeCapture(dir.file("arp.pcap"), DLT_EN10MB, {{arp, kT0, 0}});
  CaptureReader reader;
  const auto frames = readAll(reader, dir.file("arp.pcap"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].ip.empty());
  EXPECT_EQ(frames[0].data, arp);
}

TEST(CaptureReader, SnapshotTruncatedFramesAreCounted) {
  TempDir dir;
  auto frame = concat({kEther, ipv4Packet()});
  const auto wire = static_cast<uint32_t>(frame.size());
  frame.resize(40);
  writeCapture(dir.file("snap.pcap"), DLT_EN10MB,
               {{frame, kT0, wire}, {concat({kEther, ipv4Packet()}), kT0 + 1, 0}});
  CaptureReader reader;
  ReadResult last{};
  const auto frames = readAll(reader, dir.file("snap.pcap"), &last);
  EXPECT_EQ(last, ReadResult::End);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].wireLen, wire);
  EXPECT_EQ(frames[0].data.size(), 40u);
  EXPECT_EQ(frames[0].ip.size(), 26u);  // what is there; parsePacket reports it truncated
  EXPECT_EQ(reader.truncatedFrames(), 1u);
}

// A capture of `records` identical Ethernet frames, damaged after writing; the reader yields
// the frames before the damage, then an error it keeps.
struct DamageCase {
  const char* name;
  size_t records;
  // Changes the file's bytes; `frame` is the size of one frame's data.
  void (*damage)(std::vector<uint8_t>& bytes, size_t frame);
  size_t framesBefore;
};

void PrintTo(const DamageCase& c, std::ostream* os) { *os << c.name; }

class CaptureReaderDamage : public ::testing::TestWithParam<DamageCase> {};

TEST_P(CaptureReaderDamage, IsReadUpToTheDamage) {
  const DamageCase& c = GetParam();
  TempDir dir;
  const std::string path = dir.file("damaged.pcap");
  const auto frame = concat({kEther, ipv4Packet()});
  std::vector<TestFrame> frames;
  for (size_t i = 0; i < c.records; ++i) frames.push_back({frame, kT0 + i, 0});
  writeCapture(path, DLT_EN10MB, frames);
  auto bytes = readFile(path);
  c.damage(bytes, frame.size());
  writeFile(path, bytes);

  CaptureReader reader;
  ReadResult last{};
  const auto read = readAll(reader, path, &last);
  EXPECT_EQ(last, ReadResult::Error) << c.name;
  EXPECT_EQ(read.size(), c.framesBefore) << c.name;
  EXPECT_FALSE(reader.error().empty()) << c.name;
  Frame f;
  EXPECT_EQ(reader.next(f), ReadResult::Error) << c.name;  // stays in error
  EXPECT_EQ(reader.framesRead(), c.framesBefore) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    CaptureReader, CaptureReaderDamage,
    ::testing::Values(DamageCase{"FileCutInsideARecord", 3,
                                 [](std::vector<uint8_t>& bytes, size_t frame) {
                                   bytes.resize(bytes.size() -
                                                frame / 2);  // third record loses half its data
                                 },
                                 2},
                      DamageCase{"FileCutInsideARecordHeader", 2,
                                 [](std::vector<uint8_t>& bytes, size_t frame) {
                                   bytes.resize(bytes.size() - frame -
                                                8);  // second record header is half there
                                 },
                                 1},
                      DamageCase{"ImpossibleRecordLength", 2,
                                 [](std::vector<uint8_t>& bytes, size_t frame) {
                                   // Second record's caplen (little-endian, at 24 + 16 + frame + 8)
                                   // becomes 0x7fffffff.
                                   const size_t caplenAt = 24 + 16 + frame + 8;
                                   bytes[caplenAt] = 0xff;
                                   bytes[caplenAt + 1] = 0xff;
                                   bytes[caplenAt + 2] = 0xff;
                                   bytes[caplenAt + 3] = 0x7f;
                                 },
                                 1}),
    [](const ::testing::TestParamInfo<DamageCase>& p) { return std::string(p.param.name); });

TEST(CaptureReader, UnsupportedLinkType) {
  TempDir dir;
  writeCapture(dir.file("wifi.pcap"), DLT_IEEE802_11, {{std::vector<uint8_t>(30, 0), kT0, 0}});
  CaptureReader reader;
  const Status s = reader.open(dir.file("wifi.pcap"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unsupported link type IEEE802_11 (105)"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
}

TEST(CaptureReader, MissingFile) {
  CaptureReader reader;
  const Status s = reader.open("/nonexistent/ftpalg/in.pcap");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("cannot read /nonexistent/ftpalg/in.pcap: ", 0), 0u) << s.message();
}

TEST(CaptureReader, NotACapture) {
  TempDir dir;
  writeFile(dir.file("text.pcap"), std::vector<uint8_t>(100, 'x'));
  CaptureReader reader;
  EXPECT_FALSE(reader.open(dir.file("text.pcap")).ok());
}

// Minimal pcapng writer: little-endian blocks, one interface.
class PcapNg {
 public:
  PcapNg() {
    // Section header: byte-order magic, version 1.0, section length unknown.
    std::vector<uint8_t> body;
    u32(body, 0x1a2b3c4d);
    u16(body, 1);
    u16(body, 0);
    u32(body, 0xffffffff);
    u32(body, 0xffffffff);
    block(0x0a0d0d0a, body);
  }
  // Interface description; tsresol 9 = nanoseconds, 0 = no option (microseconds).
  void interface(uint16_t linktype, uint8_t tsresol) {
    std::vector<uint8_t> body;
    u16(body, linktype);
    u16(body, 0);
    u32(body, 0);  // snaplen: none
    if (tsresol != 0) {
      u16(body, 9);  // if_tsresol
      u16(body, 1);
      body.insert(body.end(), {tsresol, 0, 0, 0});
      u32(body, 0);  // opt_endofopt
    }
    block(1, body);
  }
  // Enhanced packet block; ts in interface units.
  void packet(uint64_t ts, const std::vector<uint8_t>& data) {
    std::vector<uint8_t> body;
    u32(body, 0);
    u32(body, static_cast<uint32_t>(ts >> 32));
    u32(body, static_cast<uint32_t>(ts));
    u32(body, static_cast<uint32_t>(data.size()));
    u32(body, static_cast<uint32_t>(data.size()));
    body.insert(body.end(), data.begin(), data.end());
    while (body.size() % 4 != 0) body.push_back(0);
    block(6, body);
  }
  const std::vector<uint8_t>& bytes() const { return out_; }

 private:
  static void u16(std::vector<uint8_t>& b, uint16_t v) {
    b.push_back(static_cast<uint8_t>(v));
    b.push_back(static_cast<uint8_t>(v >> 8));
  }
  static void u32(std::vector<uint8_t>& b, uint32_t v) {
    u16(b, static_cast<uint16_t>(v));
    u16(b, static_cast<uint16_t>(v >> 16));
  }
  void block(uint32_t type, const std::vector<uint8_t>& body) {
    const auto total = static_cast<uint32_t>(12 + body.size());
    u32(out_, type);
    u32(out_, total);
    out_.insert(out_.end(), body.begin(), body.end());
    u32(out_, total);
  }
  std::vector<uint8_t> out_;
};

TEST(CaptureReader, PcapNgNanosecond) {
  TempDir dir;
  PcapNg ng;
  ng.interface(1, 9);
  const auto f1 = concat({kEther, ipv4Packet()});
  const auto f2 = concat({kEther, ipv4Packet("PASS x\r\n")});
  ng.packet(kT0, f1);
  ng.packet(kT0 + 5, f2);
  writeFile(dir.file("in.pcapng"), ng.bytes());

  CaptureReader reader;
  ReadResult last{};
  const auto frames = readAll(reader, dir.file("in.pcapng"), &last);
  EXPECT_EQ(last, ReadResult::End);
  EXPECT_EQ(reader.dlt(), DLT_EN10MB);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].tsNs, kT0);
  EXPECT_EQ(frames[0].ip, ipv4Packet());
  EXPECT_EQ(frames[1].tsNs, kT0 + 5);
  EXPECT_EQ(frames[1].data, f2);
}

TEST(CaptureReader, PcapNgMicrosecondRaw) {
  TempDir dir;
  PcapNg ng;
  ng.interface(101, 0);  // LINKTYPE_RAW, default resolution
  ng.packet(kT0 / 1000, ipv6Packet());
  writeFile(dir.file("raw.pcapng"), ng.bytes());

  CaptureReader reader;
  const auto frames = readAll(reader, dir.file("raw.pcapng"));
  EXPECT_EQ(reader.linkType(), LinkType::Raw);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].tsNs, kT0 / 1000 * 1000);
  EXPECT_EQ(frames[0].ip, ipv6Packet());
}

TEST(CaptureReader, PcapNgCutInsideABlock) {
  TempDir dir;
  PcapNg ng;
  ng.interface(1, 9);
  const auto frame = concat({kEther, ipv4Packet()});
  ng.packet(kT0, frame);
  ng.packet(kT0 + 1, frame);
  auto bytes = ng.bytes();
  bytes.resize(bytes.size() - 20);
  writeFile(dir.file("cut.pcapng"), bytes);

  CaptureReader reader;
  ReadResult last{};
  const auto frames = readAll(reader, dir.file("cut.pcapng"), &last);
  EXPECT_EQ(last, ReadResult::Error);
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_FALSE(reader.error().empty());
}

TEST(CaptureWriter, RoundTripKeepsLinkTypeTimestampsAndLengths) {
  TempDir dir;
  const std::string path = dir.file("out.pcap");
  const std::vector<uint8_t> sll2{0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0};
  const auto frame = concat({sll2, ipv4Packet()});
  {
    CaptureWriter writer;
    ASSERT_TRUE(writer.open(path, DLT_LINUX_SLL2).ok());
    writer.write(kT0, frame, static_cast<uint32_t>(frame.size()));
    writer.write(kT0 + 7, std::span(frame).first(30), 1500);
    EXPECT_EQ(writer.framesWritten(), 2u);
    EXPECT_TRUE(writer.close().ok());
  }
  CaptureReader reader;
  const auto frames = readAll(reader, path);
  EXPECT_EQ(reader.dlt(), DLT_LINUX_SLL2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].tsNs, kT0);
  EXPECT_EQ(frames[0].data, frame);
  EXPECT_EQ(frames[1].tsNs, kT0 + 7);
  EXPECT_EQ(frames[1].data.size(), 30u);
  EXPECT_EQ(frames[1].wireLen, 1500u);
  EXPECT_EQ(reader.truncatedFrames(), 1u);
}

TEST(CaptureWriter, UnwritablePath) {
  CaptureWriter writer;
  const Status s = writer.open("/nonexistent/ftpalg/out.pcap", DLT_EN10MB);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("cannot write /nonexistent/ftpalg/out.pcap: ", 0), 0u);
}

}  // namespace
}  // namespace ftpalg::test
