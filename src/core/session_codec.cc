#include "session_codec.h"

#include <array>
#include <cstdint>
#include <cstring>

#include "ftp_stage.h"
#include "seq_math.h"

namespace ftpalg::core {
namespace {

constexpr std::array<uint8_t, 4> kMagic{'F', 'T', 'P', 'S'};
constexpr size_t kHeader = 12;  // magic, version, reserved, length
constexpr size_t kTrailer = 4;  // CRC-32
constexpr int64_t kMaxDelta = int64_t{1} << 30;
constexpr uint32_t kMaxLineSpan = 65536;
// A splice's original length (RewriteRecord::origLen, 16 bits) can never exceed a line's span.
static_assert(kMaxLineSpan > UINT16_MAX);

constexpr std::array<uint32_t, 256> makeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = makeCrcTable();

// Appends little-endian values; `ok` turns false (and stays) when `out` is full.
class Writer {
 public:
  explicit Writer(std::span<uint8_t> out) : out_(out) {}
  void bytes(const uint8_t* p, size_t n) {
    if (!ok_ || out_.size() - pos_ < n) {
      ok_ = false;
      return;
    }
    if (n != 0) std::memcpy(out_.data() + pos_, p, n);
    pos_ += n;
  }
  template <typename T>
  void num(T v) {
    std::array<uint8_t, sizeof(T)> b{};
    auto u = static_cast<uint64_t>(v);
    for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<uint8_t>(u >> (8 * i));
    bytes(b.data(), b.size());
  }
  void u8(uint8_t v) { bytes(&v, 1); }
  void addr(const IpAddr& a) {
    u8(static_cast<uint8_t>(a.family));
    bytes(a.bytes.data(), a.bytes.size());
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] size_t size() const { return pos_; }
  uint8_t* at(size_t off) { return out_.data() + off; }

 private:
  std::span<uint8_t> out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Reads little-endian values; `ok` turns false (and stays) on a short input, values read then
// are zero.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  std::span<const uint8_t> take(size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    std::span<const uint8_t> r = in_.subspan(pos_, n);
    pos_ += n;
    return r;
  }
  template <typename T>
  T num() {
    std::span<const uint8_t> b = take(sizeof(T));
    uint64_t u = 0;
    for (size_t i = 0; i < b.size(); ++i) u |= uint64_t{b[i]} << (8 * i);
    return static_cast<T>(u);
  }
  uint8_t u8() { return num<uint8_t>(); }
  bool flag(bool& bad) {
    const uint8_t v = u8();
    bad = bad || v > 1;
    return v == 1;
  }
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] bool atEnd() const { return pos_ == in_.size(); }

 private:
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// An address of family `want` with the unused bytes of IPv4 zero (hashing relies on it).
bool readAddr(Reader& r, IpAddr& a, Family want) {
  const uint8_t fam = r.u8();
  std::span<const uint8_t> b = r.take(a.bytes.size());
  if (!r.ok()) return true;  // reported as Truncated
  a.family = static_cast<Family>(fam);
  std::memcpy(a.bytes.data(), b.data(), b.size());
  if (a.family != want) return false;
  for (size_t i = a.size(); i < a.bytes.size(); ++i) {
    if (a.bytes[i] != 0) return false;
  }
  return true;
}

void writeDir(Writer& w, const DirSnapshot& d) {
  w.num(d.next);
  w.num(d.acked);
  w.num(d.lineStart);
  w.num(d.baseDelta);
  w.num(d.mss);
  w.num(d.maxSeen);
  w.u8(d.flags);
  w.num(d.abandonedLine);
  w.num(d.forgottenEnd);
  w.num(d.replyCode);
  w.u8(static_cast<uint8_t>(d.replyTo));
  w.u8(d.recordCount);
  for (size_t i = 0; i < d.recordCount; ++i) {
    const RewriteRecord& rec = d.records[i];
    w.num(rec.origStart);
    w.num(rec.origLen);
    w.u8(rec.newLen);
    w.bytes(reinterpret_cast<const uint8_t*>(rec.text.data()), rec.newLen);
  }
  w.num(d.flightStart);
  w.num(static_cast<uint32_t>(d.flight.size()));
  w.bytes(d.flight.data(), d.flight.size());
  w.num(static_cast<uint32_t>(d.line.size()));
  w.bytes(d.line.data(), d.line.size());
}

// Splices in stream order, each after the previous one and before `next`.
bool validRecords(const DirSnapshot& d) {
  uint32_t prevEnd = 0;
  for (size_t i = 0; i < d.recordCount; ++i) {
    const RewriteRecord& rec = d.records[i];
    const uint32_t end = rec.origStart + rec.origLen;
    if (rec.newLen > rec.text.size()) return false;  // origLen: its type bounds it (above)
    if (i > 0 && seqLt(rec.origStart, prevEnd)) return false;
    if (seqGt(end, d.next) || seqDiff(d.next, rec.origStart) > static_cast<int32_t>(1 << 24)) {
      return false;
    }
    prevEnd = end;
  }
  return true;
}

bool readRecords(Reader& r, DirSnapshot& d) {
  d.recordCount = r.u8();
  if (d.recordCount > RewriteMap::kMaxRecords) return false;
  for (size_t i = 0; i < d.recordCount && r.ok(); ++i) {
    RewriteRecord& rec = d.records[i];
    rec.origStart = r.num<uint32_t>();
    rec.origLen = r.num<uint16_t>();
    rec.newLen = r.u8();
    if (rec.newLen > rec.text.size()) return false;
    std::span<const uint8_t> t = r.take(rec.newLen);
    if (r.ok()) std::memcpy(rec.text.data(), t.data(), t.size());
  }
  return true;
}

// One direction; false when a field is out of range or inconsistent (Truncated is r.ok()).
bool readDir(Reader& r, DirSnapshot& d) {
  d.next = r.num<uint32_t>();
  d.acked = r.num<uint32_t>();
  d.lineStart = r.num<uint32_t>();
  d.baseDelta = r.num<int64_t>();
  d.mss = r.num<uint16_t>();
  d.maxSeen = r.num<uint16_t>();
  d.flags = r.u8();
  d.abandonedLine = r.num<uint32_t>();
  d.forgottenEnd = r.num<uint32_t>();
  d.replyCode = r.num<uint16_t>();
  const uint8_t replyTo = r.u8();
  d.replyTo = static_cast<Pending>(replyTo);
  if (!readRecords(r, d)) return false;
  d.flightStart = r.num<uint32_t>();
  d.flight = r.take(r.num<uint32_t>());
  d.line = r.take(r.num<uint32_t>());
  if (!r.ok()) return true;
  const bool positions = seqLe(d.acked, d.next) && seqLe(d.lineStart, d.next) &&
                         seqDiff(d.next, d.lineStart) <= static_cast<int32_t>(kMaxLineSpan);
  const bool flight = d.flight.size() <= kMaxSnapFlight &&
                      (d.flight.empty() || d.flightStart + d.flight.size() == d.next);
  const bool line = d.line.empty() || d.lineStart + d.line.size() == d.next;
  return positions && flight && line && replyTo <= static_cast<uint8_t>(Pending::Unknown) &&
         d.replyCode <= 999 && d.baseDelta > -kMaxDelta && d.baseDelta < kMaxDelta &&
         validRecords(d);
}

// The session-wide fields before the directions; false when one is out of range.
bool readSession(Reader& r, SessionSnapshot& s) {
  const auto fam = static_cast<Family>(r.u8());
  bool good = fam == Family::V4 || fam == Family::V6;
  good = readAddr(r, s.key.client.addr, fam) && good;
  s.key.client.port = r.num<uint16_t>();
  good = readAddr(r, s.key.server.addr, fam) && good;
  s.key.server.port = r.num<uint16_t>();
  for (IpAddr* a :
       {&s.nat.clientInside, &s.nat.clientOutside, &s.nat.serverInside, &s.nat.serverOutside}) {
    good = readAddr(r, *a, fam) && good;
  }
  for (uint64_t& e : s.expectUntil) e = r.num<uint64_t>();
  bool bad = false;
  s.pairingKnown = r.flag(bad);
  s.pairingCount = r.u8();
  const bool countOk = s.pairingCount <= PairingRing::kCapacity;
  good = good && countOk;
  for (size_t i = 0; countOk && i < s.pairingCount; ++i) {
    const uint8_t p = r.u8();
    good = good && p <= static_cast<uint8_t>(Pending::Unknown);
    s.pairing[i] = static_cast<Pending>(p);
  }
  s.closing = r.flag(bad);
  s.epsvAll = r.flag(bad);
  s.finMask = r.u8();
  s.progress = r.u8();
  s.payloadMask = r.u8();
  s.stage = r.u8();
  return good && !bad && s.finMask <= 3 && s.progress <= 7 && s.payloadMask <= 3 &&
         s.stage <= static_cast<uint8_t>(FtpStage::PickedUp) && s.key.client.port != 0 &&
         s.key.server.port != 0;
}

}  // namespace

uint32_t crc32(std::span<const uint8_t> data) {
  uint32_t c = 0xFFFFFFFFu;
  for (uint8_t b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

size_t encodeSnapshot(const SessionSnapshot& s, std::span<uint8_t> out) {
  Writer w(out);
  w.bytes(kMagic.data(), kMagic.size());
  w.num(kSnapshotVersion);
  w.num(uint16_t{0});
  w.num(uint32_t{0});  // length, filled in below
  w.u8(static_cast<uint8_t>(s.key.client.addr.family));
  w.addr(s.key.client.addr);
  w.num(s.key.client.port);
  w.addr(s.key.server.addr);
  w.num(s.key.server.port);
  for (const IpAddr* a :
       {&s.nat.clientInside, &s.nat.clientOutside, &s.nat.serverInside, &s.nat.serverOutside}) {
    w.addr(*a);
  }
  for (uint64_t e : s.expectUntil) w.num(e);
  w.u8(s.pairingKnown ? 1 : 0);
  w.u8(s.pairingCount);
  for (size_t i = 0; i < s.pairingCount; ++i) w.u8(static_cast<uint8_t>(s.pairing[i]));
  w.u8(s.closing ? 1 : 0);
  w.u8(s.epsvAll ? 1 : 0);
  for (uint8_t v : {s.finMask, s.progress, s.payloadMask, s.stage}) w.u8(v);
  for (const DirSnapshot& d : s.dir) writeDir(w, d);
  const size_t total = w.size() + kTrailer;
  if (!w.ok() || total > kMaxSnapshotBytes) return 0;
  const auto len = static_cast<uint32_t>(total);
  for (size_t i = 0; i < 4; ++i) *w.at(8 + i) = static_cast<uint8_t>(len >> (8 * i));
  w.num(crc32(std::span<const uint8_t>(out.data(), w.size())));
  return w.ok() ? w.size() : 0;
}

SnapshotError decodeSnapshot(std::span<const uint8_t> in, SessionSnapshot& s) {
  if (in.size() > kMaxSnapshotBytes) return SnapshotError::TooLarge;
  if (in.size() < kHeader + kTrailer) return SnapshotError::Truncated;
  if (std::memcmp(in.data(), kMagic.data(), kMagic.size()) != 0) return SnapshotError::BadMagic;
  Reader h(in.subspan(kMagic.size()));
  const auto version = h.num<uint16_t>();
  const auto reserved = h.num<uint16_t>();
  const auto len = h.num<uint32_t>();
  if (version != kSnapshotVersion) return SnapshotError::BadVersion;
  if (len > in.size()) return SnapshotError::Truncated;
  if (len < in.size()) return SnapshotError::TooLarge;
  Reader crcAt(in.subspan(in.size() - kTrailer));
  if (crc32(in.first(in.size() - kTrailer)) != crcAt.num<uint32_t>()) {
    return SnapshotError::BadChecksum;
  }
  if (reserved != 0) return SnapshotError::BadField;
  s = SessionSnapshot{};
  Reader r(in.subspan(kHeader, in.size() - kHeader - kTrailer));
  bool good = readSession(r, s);
  for (DirSnapshot& d : s.dir) good = readDir(r, d) && good;
  if (!r.ok()) return SnapshotError::Truncated;
  if (!good) return SnapshotError::BadField;
  return r.atEnd() ? SnapshotError::None : SnapshotError::TooLarge;
}

}  // namespace ftpalg::core
