// The byte form of session snapshots (src/core/session_codec.cc): every field round-trips, and
// truncated, corrupted, oversized or inconsistent input is refused with a reason.
#include "src/core/session_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/support/packet_builder.h"

namespace ftpalg::test {
using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test

namespace {

const std::string kFlight = "PORT 198,18,0,2,195,80\r\nNOOP\r\n";
const std::string kLine = "SIZE pub/b";

RewriteRecord record(uint32_t start, uint16_t origLen, std::string_view text) {
  RewriteRecord r;
  r.origStart = start;
  r.origLen = origLen;
  r.newLen = static_cast<uint8_t>(text.size());
  std::memcpy(r.text.data(), text.data(), text.size());
  return r;
}

// A snapshot with every field away from its default.
SessionSnapshot fullSnapshot() {
  SessionSnapshot s;
  s.key.client = endpoint("198.18.0.2", 40000);
  s.key.server = endpoint("198.19.0.2", 21);
  s.nat = NatBinding{ipFromText("198.18.0.2"), ipFromText("198.51.100.77"),
                     ipFromText("198.18.100.100"), ipFromText("198.19.0.2")};
  for (size_t i = 0; i < s.expectUntil.size(); ++i) s.expectUntil[i] = 1000 + i;
  s.pairingKnown = false;
  s.pairingCount = 3;
  s.pairing[0] = Pending::Pasv;
  s.pairing[1] = Pending::Other;
  s.pairing[2] = Pending::Epsv;
  s.closing = true;
  s.epsvAll = true;
  s.finMask = 1;
  s.progress = 7;
  s.payloadMask = 3;
  s.stage = 2;
  for (size_t i = 0; i < 2; ++i) {
    DirSnapshot& d = s.dir[i];
    d.flightStart = 5000 + static_cast<uint32_t>(i);
    d.next = d.flightStart + static_cast<uint32_t>(kFlight.size() + kLine.size());
    d.acked = d.flightStart;
    d.lineStart = d.next - static_cast<uint32_t>(kLine.size());
    d.baseDelta = i == 0 ? 4 : -4;
    d.mss = 1460;
    d.maxSeen = 512;
    d.flags = static_cast<uint8_t>(0xFF);
    d.abandonedLine = 77;
    d.forgottenEnd = 4990;
    d.replyCode = 227;
    d.replyTo = Pending::Pasv;
    d.recordCount = 2;
    d.records[0] = record(d.flightStart + 5, 10, "198,51,100,77");
    d.records[1] = record(d.flightStart + 30, 2, "NO");
    d.line = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kLine.data()), kLine.size());
  }
  return s;
}

// fullSnapshot() with its flight bytes (the spans point at flightBytes).
struct Fixture {
  std::string flightBytes = kFlight + kLine;
  SessionSnapshot snap = fullSnapshot();
  Fixture() {
    for (DirSnapshot& d : snap.dir) {
      d.flight = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(flightBytes.data()),
                                          flightBytes.size());
    }
  }
};

std::vector<uint8_t> encode(const SessionSnapshot& s) {
  std::vector<uint8_t> out(kMaxSnapshotBytes);
  out.resize(encodeSnapshot(s, out));
  return out;
}

// Recomputes the CRC after a test changed bytes on purpose.
void reseal(std::vector<uint8_t>& b) {
  const uint32_t c = crc32(std::span<const uint8_t>(b.data(), b.size() - 4));
  for (size_t i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<uint8_t>(c >> (8 * i));
}

SnapshotError decode(const std::vector<uint8_t>& b) {
  SessionSnapshot s;
  return decodeSnapshot(b, s);
}

void expectSameDir(const DirSnapshot& a, const DirSnapshot& b) {
  EXPECT_EQ(a.next, b.next);
  EXPECT_EQ(a.acked, b.acked);
  EXPECT_EQ(a.lineStart, b.lineStart);
  EXPECT_EQ(a.baseDelta, b.baseDelta);
  EXPECT_EQ(a.mss, b.mss);
  EXPECT_EQ(a.maxSeen, b.maxSeen);
  EXPECT_EQ(a.flags, b.flags);
  EXPECT_EQ(a.abandonedLine, b.abandonedLine);
  EXPECT_EQ(a.forgottenEnd, b.forgottenEnd);
  EXPECT_EQ(a.replyCode, b.replyCode);
  EXPECT_EQ(a.replyTo, b.replyTo);
  ASSERT_EQ(a.recordCount, b.recordCount);
  for (size_t i = 0; i < a.recordCount; ++i) {
    EXPECT_EQ(a.records[i].origStart, b.records[i].origStart);
    EXPECT_EQ(a.records[i].origLen, b.records[i].origLen);
    ASSERT_EQ(a.records[i].newLen, b.records[i].newLen);
    EXPECT_EQ(std::memcmp(a.records[i].text.data(), b.records[i].text.data(), a.records[i].newLen),
              0);
  }
  EXPECT_EQ(a.flightStart, b.flightStart);
  EXPECT_EQ(std::vector<uint8_t>(a.flight.begin(), a.flight.end()),
            std::vector<uint8_t>(b.flight.begin(), b.flight.end()));
  EXPECT_EQ(std::vector<uint8_t>(a.line.begin(), a.line.end()),
            std::vector<uint8_t>(b.line.begin(), b.line.end()));
}

}  // namespace

TEST(SessionCodec, RoundTripKeepsEveryField) {
  Fixture f;
  const std::vector<uint8_t> bytes = encode(f.snap);
  ASSERT_FALSE(bytes.empty());
  SessionSnapshot got;
  ASSERT_EQ(decodeSnapshot(bytes, got), SnapshotError::None);
  EXPECT_EQ(got.key, f.snap.key);
  EXPECT_EQ(got.nat.clientInside, f.snap.nat.clientInside);
  EXPECT_EQ(got.nat.clientOutside, f.snap.nat.clientOutside);
  EXPECT_EQ(got.nat.serverInside, f.snap.nat.serverInside);
  EXPECT_EQ(got.nat.serverOutside, f.snap.nat.serverOutside);
  EXPECT_EQ(got.expectUntil, f.snap.expectUntil);
  EXPECT_EQ(got.pairingKnown, f.snap.pairingKnown);
  ASSERT_EQ(got.pairingCount, f.snap.pairingCount);
  for (size_t i = 0; i < got.pairingCount; ++i) EXPECT_EQ(got.pairing[i], f.snap.pairing[i]);
  EXPECT_EQ(got.closing, f.snap.closing);
  EXPECT_EQ(got.epsvAll, f.snap.epsvAll);
  EXPECT_EQ(got.finMask, f.snap.finMask);
  EXPECT_EQ(got.progress, f.snap.progress);
  EXPECT_EQ(got.payloadMask, f.snap.payloadMask);
  EXPECT_EQ(got.stage, f.snap.stage);
  for (size_t i = 0; i < 2; ++i) expectSameDir(got.dir[i], f.snap.dir[i]);
  std::printf("snapshot with 2x%zu flight bytes: %zu bytes\n", f.flightBytes.size(), bytes.size());
}

TEST(SessionCodec, Ipv6RoundTrips) {
  SessionSnapshot s;
  s.key.client = endpoint("2001:db8:1::2", 40000);
  s.key.server = endpoint("2001:db8:2::2", 21);
  s.nat = NatBinding{s.key.client.addr, s.key.client.addr, s.key.server.addr, s.key.server.addr};
  const std::vector<uint8_t> bytes = encode(s);
  SessionSnapshot got;
  ASSERT_EQ(decodeSnapshot(bytes, got), SnapshotError::None);
  EXPECT_EQ(got.key, s.key);
  std::printf("minimal IPv6 snapshot: %zu bytes\n", bytes.size());
}

TEST(SessionCodec, EveryTruncationIsRefused) {
  Fixture f;
  const std::vector<uint8_t> bytes = encode(f.snap);
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(decode(cut), SnapshotError::None) << n;
  }
  std::vector<uint8_t> shorter(bytes.begin(), bytes.end() - 1);
  EXPECT_EQ(decode(shorter), SnapshotError::Truncated);
}

TEST(SessionCodec, EveryBitFlipIsRefused) {
  Fixture f;
  const std::vector<uint8_t> bytes = encode(f.snap);
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> b = bytes;
      b[i] = static_cast<uint8_t>(b[i] ^ (1u << bit));
      EXPECT_NE(decode(b), SnapshotError::None) << i << ":" << bit;
    }
  }
}

TEST(SessionCodec, OversizedAndTrailingBytesAreRefused) {
  Fixture f;
  std::vector<uint8_t> bytes = encode(f.snap);
  bytes.push_back(0);
  EXPECT_EQ(decode(bytes), SnapshotError::TooLarge);
  std::vector<uint8_t> huge(kMaxSnapshotBytes + 1, 0);
  EXPECT_EQ(decode(huge), SnapshotError::TooLarge);
}

TEST(SessionCodec, HeaderErrorsAreNamed) {
  Fixture f;
  std::vector<uint8_t> bytes = encode(f.snap);
  std::vector<uint8_t> b = bytes;
  b[0] = 'X';
  EXPECT_EQ(decode(b), SnapshotError::BadMagic);
  b = bytes;
  b[4] = 2;  // version 2
  EXPECT_EQ(decode(b), SnapshotError::BadVersion);
  b = bytes;
  b[20] ^= 1;
  EXPECT_EQ(decode(b), SnapshotError::BadChecksum);
  b = bytes;
  b[6] = 1;  // reserved
  reseal(b);
  EXPECT_EQ(decode(b), SnapshotError::BadField);
}

TEST(SessionCodec, OutOfRangeFieldsAreRefused) {
  Fixture f;
  const std::vector<uint8_t> bytes = encode(f.snap);
  std::vector<uint8_t> b = bytes;
  b[12] = 3;  // family
  reseal(b);
  EXPECT_EQ(decode(b), SnapshotError::BadField);
  b = bytes;
  b[12 + 1 + 1 + 5] = 1;  // a byte past the IPv4 client address
  reseal(b);
  EXPECT_EQ(decode(b), SnapshotError::BadField);
  b = bytes;
  b[184] = 17;  // pairing count beyond the ring
  reseal(b);
  EXPECT_NE(decode(b), SnapshotError::None);
}

TEST(SessionCodec, InconsistentDirectionsAreRefused) {
  const auto refused = [](void (*spoil)(SessionSnapshot&)) {
    Fixture f;
    spoil(f.snap);
    return decode(encode(f.snap));
  };
  EXPECT_EQ(
      refused([](SessionSnapshot& s) { std::swap(s.dir[0].records[0], s.dir[0].records[1]); }),
      SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.dir[1].records[1].origStart = s.dir[1].next; }),
            SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.dir[0].flightStart += 1; }),
            SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.dir[0].lineStart -= 1; }), SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.dir[0].acked = s.dir[0].next + 1; }),
            SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.dir[1].replyCode = 1000; }),
            SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.dir[1].baseDelta = int64_t{1} << 31; }),
            SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.dir[1].replyTo = static_cast<Pending>(9); }),
            SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.stage = 9; }), SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.finMask = 4; }), SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.key.server.port = 0; }), SnapshotError::BadField);
  EXPECT_EQ(refused([](SessionSnapshot& s) { s.nat.clientOutside = ipFromText("2001:db8::1"); }),
            SnapshotError::BadField);
}

TEST(SessionCodec, CrcMatchesZlib) {
  const std::string s = "123456789";
  EXPECT_EQ(crc32(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size())),
            0xCBF43926u);
}

}  // namespace ftpalg::test
