#include "ftpalg/core/packet.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/guard_buffer.h"
#include "tests/support/packet_builder.h"

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

using Bytes = std::vector<uint8_t>;

// `bytes` copied to end right before a PROT_NONE page: any read past the end faults.
ftpalg::test::GuardBuffer guarded(std::span<const uint8_t> bytes) {
  return ftpalg::test::GuardBuffer(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::span<const uint8_t> u8(const ftpalg::test::GuardBuffer& g) {
  return {reinterpret_cast<const uint8_t*>(g.view().data()), g.size()};
}

// Independent reference: RFC 1071 sum over 16-bit words, written out plainly.
uint16_t referenceChecksum(const Bytes& data) {
  uint32_t total = 0;
  for (size_t i = 0; i < data.size(); i += 2) {
    uint32_t word = static_cast<uint32_t>(data[i]) << 8;
    if (i + 1 < data.size()) word |= data[i + 1];
    total += word;
  }
  while (total > 0xFFFF) total = (total & 0xFFFF) + (total >> 16);
  return static_cast<uint16_t>(~total & 0xFFFF);
}

uint16_t read16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }

// Reference TCP checksum of packet `p` whose TCP header starts at `l4`, with the given
// pseudo-header destination (the header's own unless a routing header says otherwise).
uint16_t referenceTcpChecksum(const Bytes& p, size_t l4, const IpAddr& pseudoDst) {
  Bytes pseudo;
  const bool v4 = (p[0] >> 4) == 4;
  const size_t tcpLen = p.size() - l4;
  if (v4) {
    pseudo.insert(pseudo.end(), p.begin() + 12, p.begin() + 16);
    pseudo.insert(pseudo.end(), pseudoDst.bytes.begin(), pseudoDst.bytes.begin() + 4);
    pseudo.push_back(0);
    pseudo.push_back(6);
    pseudo.push_back(static_cast<uint8_t>(tcpLen >> 8));
    pseudo.push_back(static_cast<uint8_t>(tcpLen));
  } else {
    pseudo.insert(pseudo.end(), p.begin() + 8, p.begin() + 24);
    pseudo.insert(pseudo.end(), pseudoDst.bytes.begin(), pseudoDst.bytes.end());
    pseudo.push_back(0);
    pseudo.push_back(0);
    pseudo.push_back(static_cast<uint8_t>(tcpLen >> 8));
    pseudo.push_back(static_cast<uint8_t>(tcpLen));
    pseudo.insert(pseudo.end(), {0, 0, 0, 6});
  }
  const size_t csumAt = pseudo.size() + 16;
  pseudo.insert(pseudo.end(), p.begin() + static_cast<std::ptrdiff_t>(l4), p.end());
  pseudo.at(csumAt) = 0;  // the checksum field counts as zero
  pseudo.at(csumAt + 1) = 0;
  return referenceChecksum(pseudo);
}

uint16_t referenceTcpChecksum(const Bytes& p, size_t l4) {
  IpAddr dst;
  if ((p[0] >> 4) == 4) {
    dst = IpAddr::v4(p[16], p[17], p[18], p[19]);
  } else {
    std::array<uint8_t, 16> b{};
    std::memcpy(b.data(), p.data() + 24, 16);
    dst = IpAddr::v6(b);
  }
  return referenceTcpChecksum(p, l4, dst);
}

std::span<const uint8_t> asBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string_view asText(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

PacketBuilder v4Control() {
  return PacketBuilder()
      .v4(endpoint("10.0.0.1:40000"), endpoint("192.0.2.1:21"))
      .seq(1000)
      .ack(2000)
      .flags(TcpAck | TcpPsh)
      .window(501)
      .payload("PORT 10,0,0,1,156,65\r\n");
}

PacketBuilder v6Control() {
  return PacketBuilder()
      .v6(endpoint("[2001:db8::1]:40000"), endpoint("[2001:db8:1::21]:21"))
      .seq(0xFFFFFF00)
      .ack(7)
      .flags(TcpAck | TcpPsh)
      .window(1024)
      .payload("EPRT |2|2001:db8::1|40001|\r\n");
}

PacketError parseErr(const Bytes& p) { return parsePacket(p).error; }

// --- Parsing -----------------------------------------------------------------------------

TEST(PacketParse, Ipv4Fields) {
  const Bytes p = v4Control().build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  const PacketView& v = r.view;
  EXPECT_EQ(v.family, Family::V4);
  EXPECT_EQ(v.src, IpAddr::v4(10, 0, 0, 1));
  EXPECT_EQ(v.dst, IpAddr::v4(192, 0, 2, 1));
  EXPECT_EQ(v.sport, 40000);
  EXPECT_EQ(v.dport, 21);
  EXPECT_EQ(v.seq, 1000u);
  EXPECT_EQ(v.ack, 2000u);
  EXPECT_EQ(v.flags, TcpAck | TcpPsh);
  EXPECT_EQ(v.window, 501);
  EXPECT_EQ(v.l4Offset, 20);
  EXPECT_EQ(v.tcpHeaderLen, 20);
  EXPECT_EQ(v.mss, 0);
  EXPECT_EQ(v.sackCount, 0);
  EXPECT_EQ(v.sackOffset, 0);
  EXPECT_EQ(asText(v.payload), "PORT 10,0,0,1,156,65\r\n");
  EXPECT_EQ(v.payload.data(), p.data() + 40);
  EXPECT_TRUE(tcpChecksumValid(p, v));
}

TEST(PacketParse, Ipv4WithIpOptions) {
  const uint8_t rr[] = {7, 7, 4, 0, 0, 0, 0};  // record route, one slot
  const Bytes p = v4Control().ipv4Options(rr).build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.l4Offset, 28);
  EXPECT_EQ(asText(r.view.payload), "PORT 10,0,0,1,156,65\r\n");
  EXPECT_TRUE(tcpChecksumValid(p, r.view));
}

TEST(PacketParse, Ipv4DontFragmentIsNotAFragment) {
  const Bytes p = v4Control().build();  // builder sets DF
  EXPECT_EQ(p[6] & 0x40, 0x40);
  EXPECT_EQ(parseErr(p), PacketError::None);
}

TEST(PacketParse, Ipv6Fields) {
  const Bytes p = v6Control().build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  const PacketView& v = r.view;
  EXPECT_EQ(v.family, Family::V6);
  EXPECT_EQ(v.src, ipFromText("2001:db8::1"));
  EXPECT_EQ(v.dst, ipFromText("2001:db8:1::21"));
  EXPECT_EQ(v.sport, 40000);
  EXPECT_EQ(v.dport, 21);
  EXPECT_EQ(v.seq, 0xFFFFFF00u);
  EXPECT_EQ(v.ack, 7u);
  EXPECT_EQ(v.window, 1024);
  EXPECT_EQ(v.l4Offset, 40);
  EXPECT_EQ(asText(v.payload), "EPRT |2|2001:db8::1|40001|\r\n");
  EXPECT_TRUE(tcpChecksumValid(p, v));
}

TEST(PacketParse, Ipv6HopByHopAndDestinationOptions) {
  const Bytes p = v6Control().hopByHop().destOptions(14).build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.l4Offset, 40 + 8 + 16);
  EXPECT_EQ(asText(r.view.payload), "EPRT |2|2001:db8::1|40001|\r\n");
  EXPECT_TRUE(tcpChecksumValid(p, r.view));
}

TEST(PacketParse, Ipv6RoutingAndAuthenticationHeaders) {
  // AH length is in 4-byte units minus 2: 12 + 12 ICV bytes = 24 bytes.
  const Bytes p = v6Control()
                      .hopByHop()
                      .routing({ipFromText("2001:db8:1::21")}, 0)
                      .ah(12)
                      .destOptions()
                      .build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.l4Offset, 40 + 8 + 24 + 24 + 8);
  EXPECT_TRUE(tcpChecksumValid(p, r.view));
}

TEST(PacketParse, Ipv6RoutingHeaderFinalDestinationInPseudoHeader) {
  const IpAddr finalDst = ipFromText("2001:db8:ffff::99");
  const Bytes p = v6Control().routing({ipFromText("2001:db8:2::1"), finalDst}, 2).build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.dst, ipFromText("2001:db8:1::21"));  // the wire header's destination
  EXPECT_TRUE(tcpChecksumValid(p, r.view));
  Bytes out(p.size() + 16);
  const size_t n = rebuildPacket(p, r.view, 1, 2, {}, asBytes("PASV\r\n"), out);
  ASSERT_NE(n, 0u);
  out.resize(n);
  EXPECT_EQ(read16(out, r.view.l4Offset + 16),
            referenceTcpChecksum(out, r.view.l4Offset, finalDst));
}

TEST(PacketParse, MssOption) {
  const Bytes p = v4Control().flags(TcpSyn).payload("").mss(1460).build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.mss, 1460);
  EXPECT_EQ(r.view.tcpHeaderLen, 24);
  EXPECT_TRUE(r.view.payload.empty());
}

TEST(PacketParse, SynWithTypicalLinuxOptions) {
  const Bytes p = v6Control()
                      .flags(TcpSyn)
                      .payload("")
                      .mss(1440)
                      .sackPermitted()
                      .timestamps(123456, 0)
                      .nop()
                      .wscale(7)
                      .build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.mss, 1440);
  EXPECT_EQ(r.view.sackCount, 0);
  EXPECT_EQ(r.view.tcpHeaderLen, 40);
}

TEST(PacketParse, SackBlocksOneToFour) {
  for (size_t n = 1; n <= kMaxSackBlocks; ++n) {
    std::vector<SackBlock> blocks;
    for (size_t i = 0; i < n; ++i) {
      blocks.push_back(
          {static_cast<uint32_t>(5000 + 100 * i), static_cast<uint32_t>(5050 + 100 * i)});
    }
    const Bytes p = v4Control().nop().nop().sack(blocks).build();
    const PacketParse r = parsePacket(p);
    ASSERT_EQ(r.error, PacketError::None) << n;
    ASSERT_EQ(r.view.sackCount, n);
    EXPECT_EQ(r.view.sackOffset, 20 + 20 + 4);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(r.view.sack[i], blocks[i]);
  }
}

TEST(PacketParse, TimestampsThenSack) {
  const Bytes p = v6Control()
                      .hopByHop()
                      .nop()
                      .nop()
                      .timestamps(1, 2)
                      .nop()
                      .nop()
                      .sack({{10, 20}, {30, 40}})
                      .build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.sackCount, 2);
  EXPECT_EQ(r.view.sackOffset, 48 + 20 + 12 + 4);
  EXPECT_EQ(r.view.sack[1], (SackBlock{30, 40}));
}

TEST(PacketParse, EndOfOptionListStopsTheWalk) {
  const uint8_t junk[] = {0x00, 0x00, 0x05};  // after EOL: would be a bad SACK option
  const Bytes p = v4Control().mss(536).eol().rawOption(junk).build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.mss, 536);
  EXPECT_EQ(r.view.sackCount, 0);
}

TEST(PacketParse, UnknownOptionsSkippedByLength) {
  const uint8_t unknown[] = {0xFE, 6, 1, 2, 3, 4};
  const Bytes p = v4Control().rawOption(unknown).mss(1200).build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);
  EXPECT_EQ(r.view.mss, 1200);
}

TEST(PacketParse, EthernetPaddingBeyondIpLengthIgnored) {
  const Bytes v4 = v4Control().payload("").trailer(6, 0xEE).build();
  const PacketParse r4 = parsePacket(v4);
  ASSERT_EQ(r4.error, PacketError::None);
  EXPECT_TRUE(r4.view.payload.empty());
  EXPECT_TRUE(tcpChecksumValid(v4, r4.view));

  const Bytes v6 = v6Control().payload("NOOP\r\n").trailer(10, 0xEE).build();
  const PacketParse r6 = parsePacket(v6);
  ASSERT_EQ(r6.error, PacketError::None);
  EXPECT_EQ(asText(r6.view.payload), "NOOP\r\n");
  EXPECT_TRUE(tcpChecksumValid(v6, r6.view));
}

TEST(PacketParse, ChecksumMismatchDetected) {
  const Bytes p = v4Control().tcpChecksum(0xBEEF).build();
  const PacketParse r = parsePacket(p);
  ASSERT_EQ(r.error, PacketError::None);  // parsing does not judge the checksum
  EXPECT_FALSE(tcpChecksumValid(p, r.view));
  Bytes flipped = v6Control().build();
  const PacketParse r6 = parsePacket(flipped);
  ASSERT_EQ(r6.error, PacketError::None);
  flipped.back() ^= 0x01;
  EXPECT_FALSE(tcpChecksumValid(flipped, r6.view));
}

TEST(PacketParse, OddLengthPayloadChecksum) {
  const Bytes p = v4Control().payload("PWD\r\n!").build();   // 6 bytes; odd next
  const Bytes q = v6Control().payload("CWD /\r\n").build();  // 7 bytes
  EXPECT_TRUE(tcpChecksumValid(p, parsePacket(p).view));
  EXPECT_TRUE(tcpChecksumValid(q, parsePacket(q).view));
}

// --- Errors --------------------------------------------------------------------------------

std::vector<Bytes> validSamples() {
  return {
      v4Control().build(),
      v4Control().nop().nop().sack({{1, 2}, {3, 4}}).build(),
      v4Control().ipv4Options(std::vector<uint8_t>{1, 1, 1, 1}).mss(1460).build(),
      v6Control().build(),
      v6Control().hopByHop().destOptions().mss(1220).timestamps(5, 6).build(),
      v6Control().hopByHop().routing({ipFromText("::1")}, 0).ah().destOptions().build(),
      v4Control().flags(TcpSyn).payload("").build(),
  };
}

TEST(PacketErrors, EveryPrefixIsTruncatedInGuardPage) {
  for (const Bytes& p : validSamples()) {
    ASSERT_EQ(parseErr(p), PacketError::None);
    for (size_t len = 0; len < p.size(); ++len) {
      const auto g = guarded(std::span<const uint8_t>(p.data(), len));
      EXPECT_EQ(parsePacket(u8(g)).error, PacketError::Truncated) << "len " << len;
    }
    const auto g = guarded(p);
    const auto whole = u8(g);
    const PacketParse r = parsePacket(whole);
    ASSERT_EQ(r.error, PacketError::None);
    EXPECT_TRUE(tcpChecksumValid(whole, r.view));
  }
}

TEST(PacketErrors, BadVersion) {
  Bytes p = v4Control().build();
  for (int version : {0, 1, 5, 7, 15}) {
    p[0] = static_cast<uint8_t>(version << 4 | 5);
    EXPECT_EQ(parseErr(p), PacketError::BadVersion) << version;
  }
  EXPECT_EQ(parseErr(Bytes{0x50}), PacketError::BadVersion);
}

TEST(PacketErrors, Ipv4BadIhl) {
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes p = v4Control().build();
    p[0] = static_cast<uint8_t>(0x40 | ihl);
    EXPECT_EQ(parseErr(p), PacketError::BadIpHeader) << int{ihl};
  }
}

TEST(PacketErrors, Ipv4TotalLengthBelowHeader) {
  Bytes p = v4Control().ipv4Options(std::vector<uint8_t>{1, 1, 1, 1}).build();
  p[2] = 0;
  p[3] = 23;  // IHL says 24
  EXPECT_EQ(parseErr(p), PacketError::BadIpHeader);
}

TEST(PacketErrors, Ipv4TotalLengthBeyondBufferIsTruncated) {
  Bytes p = v4Control().build();
  p[3] = static_cast<uint8_t>(p[3] + 1);
  EXPECT_EQ(parseErr(p), PacketError::Truncated);
}

TEST(PacketErrors, Ipv4Fragments) {
  EXPECT_EQ(parseErr(v4Control().ipv4Fragment(0, true).build()), PacketError::Fragment);
  EXPECT_EQ(parseErr(v4Control().ipv4Fragment(185, false).build()), PacketError::Fragment);
  EXPECT_EQ(parseErr(v4Control().ipv4Fragment(1, true).build()), PacketError::Fragment);
  EXPECT_EQ(parseErr(v4Control().ipv4Fragment(0, false).build()), PacketError::None);
}

TEST(PacketErrors, Ipv6FragmentHeader) {
  EXPECT_EQ(parseErr(v6Control().fragmentHeader(0, true).build()), PacketError::Fragment);
  EXPECT_EQ(parseErr(v6Control().fragmentHeader(0, false).build()), PacketError::Fragment);
  EXPECT_EQ(parseErr(v6Control().hopByHop().fragmentHeader(10, false).build()),
            PacketError::Fragment);
}

TEST(PacketErrors, Ipv4NotTcp) {
  Bytes p = v4Control().build();
  p[9] = 17;
  EXPECT_EQ(parseErr(p), PacketError::NotTcp);
}

TEST(PacketErrors, Ipv6NotTcp) {
  Bytes p = v6Control().build();
  p[6] = 17;
  EXPECT_EQ(parseErr(p), PacketError::NotTcp);
  p[6] = 59;  // no next header
  EXPECT_EQ(parseErr(p), PacketError::NotTcp);
  p[6] = 50;  // ESP: opaque
  EXPECT_EQ(parseErr(p), PacketError::NotTcp);

  Bytes q = v6Control().hopByHop().destOptions().build();
  q[48] = 59;  // destination options says no next header
  EXPECT_EQ(parseErr(q), PacketError::NotTcp);
  q[48] = 58;  // ICMPv6
  EXPECT_EQ(parseErr(q), PacketError::NotTcp);
}

TEST(PacketErrors, Ipv6ExtensionHeaderLengthPastPacket) {
  Bytes p = v6Control().hopByHop().build();
  p[41] = 200;  // (200 + 1) * 8 bytes: past the payload length
  EXPECT_EQ(parseErr(p), PacketError::BadIpHeader);

  Bytes q = v6Control().ah().build();
  q[41] = 255;
  EXPECT_EQ(parseErr(q), PacketError::BadIpHeader);
}

TEST(PacketErrors, Ipv6ExtensionHeaderDoesNotFitPayloadLength) {
  Bytes p = v6Control().payload("").build();
  p[6] = 60;  // claims a destination options header; only 20 TCP bytes follow...
  p[4] = 0;
  p[5] = 4;  // ...and the payload length leaves 4 bytes
  p.resize(44);
  EXPECT_EQ(parseErr(p), PacketError::BadIpHeader);
}

TEST(PacketErrors, Ipv6HopByHopNotFirst) {
  Bytes p = v6Control().destOptions().hopByHop().build();
  EXPECT_EQ(parseErr(p), PacketError::BadIpHeader);
}

TEST(PacketErrors, Ipv6TooManyExtensionHeadersIsBounded) {
  PacketBuilder b = v6Control();
  for (int i = 0; i < 9; ++i) b.destOptions();
  EXPECT_EQ(parseErr(b.build()), PacketError::BadIpHeader);
  PacketBuilder ok = v6Control();
  for (int i = 0; i < 8; ++i) ok.destOptions();
  EXPECT_EQ(parseErr(ok.build()), PacketError::None);
}

TEST(PacketErrors, Ipv6PayloadLengthBeyondBufferIsTruncated) {
  Bytes p = v6Control().build();
  p[5] = static_cast<uint8_t>(p[5] + 1);
  EXPECT_EQ(parseErr(p), PacketError::Truncated);
}

TEST(PacketErrors, TcpDataOffsetTooSmall) {
  for (uint8_t doff = 0; doff < 5; ++doff) {
    Bytes p = v4Control().build();
    p[20 + 12] = static_cast<uint8_t>(doff << 4);
    EXPECT_EQ(parseErr(p), PacketError::BadTcpHeader) << int{doff};
  }
}

TEST(PacketErrors, TcpDataOffsetBeyondPacket) {
  Bytes p = v4Control().payload("").build();
  p[20 + 12] = 0x60;  // 24 bytes, only 20 present
  EXPECT_EQ(parseErr(p), PacketError::BadTcpHeader);
  Bytes q = v6Control().payload("abc").build();
  q[40 + 12] = 0xF0;
  EXPECT_EQ(parseErr(q), PacketError::BadTcpHeader);
}

TEST(PacketErrors, IpLengthLeavesNoRoomForTcpHeader) {
  Bytes p = v4Control().payload("").build();
  p[3] = 39;  // total length 39: TCP header cut by the IP length, not by the buffer
  EXPECT_EQ(parseErr(p), PacketError::BadTcpHeader);
  Bytes q = v6Control().payload("").build();
  q[5] = 19;
  EXPECT_EQ(parseErr(q), PacketError::BadTcpHeader);
}

Bytes withRawOptions(std::initializer_list<uint8_t> opts) {
  return v4Control().rawOption(std::vector<uint8_t>(opts)).build();
}

TEST(PacketErrors, BadTcpOptions) {
  EXPECT_EQ(parseErr(withRawOptions({0xFE, 0, 0, 0})), PacketError::BadTcpOption);  // len 0
  EXPECT_EQ(parseErr(withRawOptions({0xFE, 1, 0, 0})), PacketError::BadTcpOption);  // len 1
  EXPECT_EQ(parseErr(withRawOptions({0xFE, 5, 0, 0})), PacketError::BadTcpOption);  // past
  EXPECT_EQ(parseErr(withRawOptions({1, 1, 1, 2})), PacketError::BadTcpOption);     // no len byte
  EXPECT_EQ(parseErr(withRawOptions({2, 3, 5, 1})), PacketError::BadTcpOption);     // MSS len 3
  EXPECT_EQ(parseErr(withRawOptions({2, 6, 5, 1, 0, 0, 1, 1})), PacketError::BadTcpOption);
  EXPECT_EQ(parseErr(withRawOptions({5, 2, 1, 1})), PacketError::BadTcpOption);  // SACK, 0 blocks
  EXPECT_EQ(parseErr(withRawOptions({5, 6, 0, 0, 0, 0, 1, 1})), PacketError::BadTcpOption);
  EXPECT_EQ(parseErr(v4Control().sack({{1, 2}}).sack({{3, 4}}).build()),
            PacketError::BadTcpOption);  // two SACK options
  EXPECT_EQ(parseErr(withRawOptions({1, 1, 1, 1})), PacketError::None);
}

TEST(PacketErrors, NamesAreDistinctSnakeCase) {
  std::vector<std::string_view> names;
  for (uint8_t i = 0; i < static_cast<uint8_t>(PacketError::Count); ++i) {
    const std::string_view n = packetErrorName(static_cast<PacketError>(i));
    for (char c : n) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << n;
    for (std::string_view seen : names) EXPECT_NE(seen, n);
    names.push_back(n);
  }
  EXPECT_EQ(packetErrorName(PacketError::None), "none");
  EXPECT_EQ(packetErrorName(PacketError::Truncated), "truncated");
  EXPECT_EQ(packetErrorName(PacketError::BadTcpOption), "bad_tcp_option");
  EXPECT_EQ(packetErrorName(PacketError::Count), "unknown");
}

TEST(PacketErrors, EverySingleByteMutationIsSafe) {
  // Parse must never read outside the buffer; whatever parses must rebuild consistently.
  Bytes out(4096);
  for (const Bytes& orig : validSamples()) {
    for (size_t i = 0; i < orig.size(); ++i) {
      for (int delta : {1, 0x0F, 0x80, 0xFF}) {
        Bytes p = orig;
        p[i] = static_cast<uint8_t>(p[i] ^ delta);
        const auto g = guarded(p);
        const auto buf = u8(g);
        const PacketParse r = parsePacket(buf);
        if (r.error != PacketError::None) continue;
        ASSERT_LE(r.view.payload.data() + r.view.payload.size(), buf.data() + buf.size());
        std::vector<SackBlock> sack(r.view.sack.begin(), r.view.sack.begin() + r.view.sackCount);
        const size_t n = rebuildPacket(buf, r.view, 1, 2, sack, r.view.payload, out);
        ASSERT_NE(n, 0u);
        const PacketParse again = parsePacket(std::span<const uint8_t>(out.data(), n));
        ASSERT_EQ(again.error, PacketError::None);
        EXPECT_TRUE(tcpChecksumValid(std::span<const uint8_t>(out.data(), n), again.view));
      }
    }
  }
}

// --- Rebuild -------------------------------------------------------------------------------

// A rebuilt packet and its re-parsed view (pointing into `bytes`).
struct Rebuilt {
  explicit Rebuilt(Bytes b) : bytes(std::move(b)) {
    const PacketParse r = parsePacket(bytes);
    EXPECT_EQ(r.error, PacketError::None);
    view = r.view;
  }
  Rebuilt(const Rebuilt&) = delete;
  Rebuilt& operator=(const Rebuilt&) = delete;
  Bytes bytes;
  PacketView view;
};

Rebuilt rebuild(const Bytes& orig, uint32_t seq, uint32_t ack, std::vector<SackBlock> sack,
                std::string_view payload) {
  const PacketParse r = parsePacket(orig);
  EXPECT_EQ(r.error, PacketError::None);
  Bytes out(orig.size() + payload.size() + 64);
  const size_t n = rebuildPacket(orig, r.view, seq, ack, sack, asBytes(payload), out);
  EXPECT_NE(n, 0u);
  out.resize(n);
  return Rebuilt(std::move(out));
}

void expectChecksumsCorrect(const Rebuilt& r) {
  EXPECT_TRUE(tcpChecksumValid(r.bytes, r.view));
  EXPECT_EQ(read16(r.bytes, r.view.l4Offset + 16), referenceTcpChecksum(r.bytes, r.view.l4Offset));
  if (r.view.family == Family::V4) {
    Bytes hdr(r.bytes.begin(), r.bytes.begin() + r.view.l4Offset);
    EXPECT_EQ(referenceChecksum(hdr), 0);  // a correct header sums to 0xFFFF
    EXPECT_EQ(read16(r.bytes, 2), r.bytes.size());
  } else {
    EXPECT_EQ(read16(r.bytes, 4), r.bytes.size() - 40);  // extension headers included
  }
}

TEST(PacketRebuild, Ipv4LongerPayload) {
  const Bytes orig = v4Control().build();
  const std::string longer = "PORT 203,0,113,200,156,65\r\n";
  const Rebuilt r = rebuild(orig, 1005, 2000, {}, longer);
  EXPECT_EQ(r.bytes.size(), orig.size() + 5);
  EXPECT_EQ(r.view.seq, 1005u);
  EXPECT_EQ(r.view.ack, 2000u);
  EXPECT_EQ(asText(r.view.payload), longer);
  EXPECT_EQ(r.view.window, 501);
  EXPECT_EQ(r.view.flags, TcpAck | TcpPsh);
  expectChecksumsCorrect(r);
}

TEST(PacketRebuild, Ipv4ShorterPayload) {
  const Bytes orig = v4Control().payload("PORT 203,0,113,200,156,65\r\n").build();
  const Rebuilt r = rebuild(orig, 999, 1, {}, "PORT 1,2,3,4,1,2\r\n");
  EXPECT_EQ(asText(r.view.payload), "PORT 1,2,3,4,1,2\r\n");
  EXPECT_EQ(r.bytes.size(), 40u + 18u);
  expectChecksumsCorrect(r);
}

TEST(PacketRebuild, EmptyPayload) {
  const Rebuilt r = rebuild(v6Control().build(), 5, 6, {}, "");
  EXPECT_TRUE(r.view.payload.empty());
  EXPECT_EQ(r.bytes.size(), 60u);
  expectChecksumsCorrect(r);
}

TEST(PacketRebuild, Ipv6WithExtensionHeaders) {
  const Bytes orig = v6Control().hopByHop().destOptions().build();
  const std::string payload = "229 Entering Extended Passive Mode (|||50000|)\r\n";
  const Rebuilt r = rebuild(orig, 0x10, 0xFFFFFFFF, {}, payload);
  EXPECT_EQ(r.view.l4Offset, 56);
  EXPECT_EQ(asText(r.view.payload), payload);
  EXPECT_EQ(r.view.ack, 0xFFFFFFFFu);
  // The extension headers are copied byte for byte.
  EXPECT_TRUE(std::equal(orig.begin() + 40, orig.begin() + 56, r.bytes.begin() + 40));
  expectChecksumsCorrect(r);
}

TEST(PacketRebuild, Ipv4OptionsPreserved) {
  const Bytes orig = v4Control().ipv4Options(std::vector<uint8_t>{7, 7, 4, 0, 0, 0, 0}).build();
  const Rebuilt r = rebuild(orig, 1, 2, {}, "X");
  EXPECT_EQ(r.view.l4Offset, 28);
  EXPECT_TRUE(std::equal(orig.begin(), orig.begin() + 2, r.bytes.begin()));
  EXPECT_TRUE(std::equal(orig.begin() + 4, orig.begin() + 10, r.bytes.begin() + 4));
  EXPECT_TRUE(std::equal(orig.begin() + 12, orig.begin() + 28, r.bytes.begin() + 12));
  expectChecksumsCorrect(r);
}

TEST(PacketRebuild, NewSackBlocks) {
  const Bytes orig = v4Control()
                         .nop()
                         .nop()
                         .timestamps(9, 8)
                         .nop()
                         .nop()
                         .sack({{100, 200}, {300, 400}, {500, 600}})
                         .build();
  const std::vector<SackBlock> next{{110, 210}, {310, 410}, {0xFFFFFFF0, 5}};
  const Rebuilt r = rebuild(orig, 1, 2, next, "");
  ASSERT_EQ(r.view.sackCount, 3);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.view.sack[i], next[i]);
  expectChecksumsCorrect(r);

  const Bytes orig6 =
      v6Control().hopByHop().nop().nop().sack({{1, 2}, {3, 4}, {5, 6}, {7, 8}}).build();
  const std::vector<SackBlock> next6{{11, 12}, {13, 14}, {15, 16}, {17, 18}};
  const Rebuilt r6 = rebuild(orig6, 1, 2, next6, "longer payload than before\r\n");
  ASSERT_EQ(r6.view.sackCount, 4);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(r6.view.sack[i], next6[i]);
  expectChecksumsCorrect(r6);
}

TEST(PacketRebuild, SackCountMismatchRejected) {
  const Bytes orig = v4Control().sack({{1, 2}}).build();
  const PacketParse r = parsePacket(orig);
  ASSERT_EQ(r.error, PacketError::None);
  Bytes out(256);
  EXPECT_EQ(rebuildPacket(orig, r.view, 1, 2, {}, {}, out), 0u);
  const SackBlock two[] = {{1, 2}, {3, 4}};
  EXPECT_EQ(rebuildPacket(orig, r.view, 1, 2, two, {}, out), 0u);
}

TEST(PacketRebuild, GarbageInputChecksumGivesCorrectOutput) {
  for (uint16_t garbage : {uint16_t{0}, uint16_t{0xFFFF}, uint16_t{0x1234}}) {
    const Bytes v4 = v4Control().tcpChecksum(garbage).build();
    expectChecksumsCorrect(rebuild(v4, 1000, 2000, {}, "PORT 10,0,0,1,156,65\r\n"));
    Bytes v4BadIp = v4;
    v4BadIp[10] = 0xDE;
    v4BadIp[11] = 0xAD;
    expectChecksumsCorrect(rebuild(v4BadIp, 1000, 2000, {}, "NOOP\r\n"));
    const Bytes v6 = v6Control().hopByHop().tcpChecksum(garbage).build();
    expectChecksumsCorrect(rebuild(v6, 1, 2, {}, "EPSV\r\n"));
  }
}

TEST(PacketRebuild, UnchangedRebuildIsIdentical) {
  for (const Bytes& orig : validSamples()) {
    const PacketParse r = parsePacket(orig);
    ASSERT_EQ(r.error, PacketError::None);
    std::vector<SackBlock> sack(r.view.sack.begin(), r.view.sack.begin() + r.view.sackCount);
    Bytes out(orig.size());
    ASSERT_EQ(rebuildPacket(orig, r.view, r.view.seq, r.view.ack, sack, r.view.payload, out),
              orig.size());
    EXPECT_EQ(out, orig);
  }
}

TEST(PacketRebuild, OutputTooSmallReturnsZero) {
  const Bytes orig = v4Control().build();
  const PacketParse r = parsePacket(orig);
  ASSERT_EQ(r.error, PacketError::None);
  const std::string_view payload = "PORT 203,0,113,200,156,65\r\n";
  const size_t need = 40 + payload.size();
  Bytes out(need - 1);
  EXPECT_EQ(rebuildPacket(orig, r.view, 1, 2, {}, asBytes(payload), out), 0u);
  EXPECT_EQ(rebuildPacket(orig, r.view, 1, 2, {}, asBytes(payload), {}), 0u);
  out.resize(need);
  EXPECT_EQ(rebuildPacket(orig, r.view, 1, 2, {}, asBytes(payload), out), need);
}

TEST(PacketRebuild, ResultOver65535ReturnsZero) {
  const Bytes v4 = v4Control().build();
  const PacketParse r4 = parsePacket(v4);
  ASSERT_EQ(r4.error, PacketError::None);
  Bytes big(65535 - 40 + 1, 'A');
  Bytes out(70000);
  EXPECT_EQ(rebuildPacket(v4, r4.view, 1, 2, {}, big, out), 0u);
  big.pop_back();
  ASSERT_EQ(rebuildPacket(v4, r4.view, 1, 2, {}, big, out), 65535u);
  const std::span<const uint8_t> maxPkt(out.data(), 65535);
  const PacketParse m = parsePacket(maxPkt);
  ASSERT_EQ(m.error, PacketError::None);
  EXPECT_TRUE(tcpChecksumValid(maxPkt, m.view));

  const Bytes v6 = v6Control().hopByHop().build();
  const PacketParse r6 = parsePacket(v6);
  ASSERT_EQ(r6.error, PacketError::None);
  Bytes big6(65535 - 68 + 1, 'B');
  EXPECT_EQ(rebuildPacket(v6, r6.view, 1, 2, {}, big6, out), 0u);
  big6.pop_back();
  EXPECT_EQ(rebuildPacket(v6, r6.view, 1, 2, {}, big6, out), 65535u);
}

TEST(PacketRebuild, InPlaceInTheOriginalBuffer) {
  Bytes buf = v4Control().payload("PORT 192,168,100,200,156,65\r\n").build();
  const size_t origLen = buf.size();
  buf.resize(origLen + 32);
  const std::span<const uint8_t> orig(buf.data(), origLen);
  const PacketParse r = parsePacket(orig);
  ASSERT_EQ(r.error, PacketError::None);
  // Shrink: the new payload is a suffix of the old one (overlapping source).
  const auto tail = r.view.payload.subspan(5);
  const size_t n = rebuildPacket(orig, r.view, 77, 88, {}, tail, buf);
  ASSERT_EQ(n, origLen - 5);
  buf.resize(n);
  const Rebuilt again(std::move(buf));
  EXPECT_EQ(asText(again.view.payload), "192,168,100,200,156,65\r\n");
  EXPECT_EQ(again.view.seq, 77u);
  expectChecksumsCorrect(again);
}

TEST(PacketRebuild, RejectsViewNotFittingBuffer) {
  const Bytes orig = v6Control().build();
  PacketParse r = parsePacket(orig);
  ASSERT_EQ(r.error, PacketError::None);
  Bytes out(512);
  const std::span<const uint8_t> shortOrig(orig.data(), 50);
  EXPECT_EQ(rebuildPacket(shortOrig, r.view, 1, 2, {}, {}, out), 0u);
  EXPECT_FALSE(tcpChecksumValid(shortOrig, r.view));
  PacketView empty;
  EXPECT_EQ(rebuildPacket(orig, empty, 1, 2, {}, {}, out), 0u);
  EXPECT_FALSE(tcpChecksumValid(orig, empty));
}

}  // namespace
}  // namespace ftpalg::test
