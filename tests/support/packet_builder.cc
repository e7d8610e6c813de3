#include "tests/support/packet_builder.h"

#include <cstdlib>
#include <limits>

#include "ftpalg/core/number.h"

namespace ftpalg::test {
namespace {

void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x >> 8));
  v.push_back(static_cast<uint8_t>(x));
}
void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8) v.push_back(static_cast<uint8_t>(x >> shift));
}
void set16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
  v[at] = static_cast<uint8_t>(x >> 8);
  v[at + 1] = static_cast<uint8_t>(x);
}

[[noreturn]] void badLiteral() { std::abort(); }

// Test literals may carry leading zeros ("010", "00080"); only the value is bounded.
constexpr size_t kAnyLength = std::numeric_limits<size_t>::max();

// Length of the run of decimal (or hex) digits at the start of `t`.
size_t digitRun(std::string_view t, core::NumberBase base) {
  size_t n = 0;
  while (n < t.size()) {
    const char c = t[n];
    const bool dec = c >= '0' && c <= '9';
    const bool hex = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!dec && !(base == core::NumberBase::Hex && hex)) break;
    ++n;
  }
  return n;
}

bool parseV4Text(std::string_view t, core::IpAddr& out) {
  std::array<uint8_t, 4> b{};
  for (size_t i = 0; i < 4; ++i) {
    const std::string_view digits = t.substr(0, digitRun(t, core::NumberBase::Decimal));
    if (!core::parseNumber(digits, b[i], uint8_t{0}, uint8_t{255}, kAnyLength)) return false;
    t.remove_prefix(digits.size());
    if (i < 3) {
      if (t.empty() || t[0] != '.') return false;
      t.remove_prefix(1);
    }
  }
  if (!t.empty()) return false;
  out = core::IpAddr::v4(b[0], b[1], b[2], b[3]);
  return true;
}

// Hex groups separated by ':' into `groups`; returns count or -1.
int parseGroups(std::string_view t, std::array<uint16_t, 8>& groups) {
  int n = 0;
  while (!t.empty()) {
    if (n == 8) return -1;
    const std::string_view digits = t.substr(0, digitRun(t, core::NumberBase::Hex));
    uint16_t& group = groups[static_cast<size_t>(n++)];
    if (!core::parseNumber(digits, group, uint16_t{0}, uint16_t{0xFFFF}, 4,
                           core::NumberBase::Hex)) {
      return -1;
    }
    t.remove_prefix(digits.size());
    if (!t.empty()) {
      if (t[0] != ':' || t.size() == 1) return -1;
      t.remove_prefix(1);
    }
  }
  return n;
}

bool parseV6Text(std::string_view t, core::IpAddr& out) {
  std::array<uint16_t, 8> head{};
  std::array<uint16_t, 8> tail{};
  int nh = 0;
  int nt = 0;
  const size_t gap = t.find("::");
  if (gap == std::string_view::npos) {
    nh = parseGroups(t, head);
    if (nh != 8) return false;
  } else {
    nh = parseGroups(t.substr(0, gap), head);
    nt = parseGroups(t.substr(gap + 2), tail);
    if (nh < 0 || nt < 0 || nh + nt > 7) return false;
  }
  std::array<uint8_t, 16> b{};
  for (int i = 0; i < nh; ++i) {
    b[static_cast<size_t>(2 * i)] = static_cast<uint8_t>(head[static_cast<size_t>(i)] >> 8);
    b[static_cast<size_t>(2 * i + 1)] = static_cast<uint8_t>(head[static_cast<size_t>(i)]);
  }
  for (int i = 0; i < nt; ++i) {
    const size_t at = static_cast<size_t>(2 * (8 - nt + i));
    b[at] = static_cast<uint8_t>(tail[static_cast<size_t>(i)] >> 8);
    b[at + 1] = static_cast<uint8_t>(tail[static_cast<size_t>(i)]);
  }
  out = core::IpAddr::v6(b);
  return true;
}

uint64_t sum(std::span<const uint8_t> d, uint64_t acc) {
  for (size_t i = 0; i < d.size(); i += 2) {
    const unsigned hi = d[i];
    const unsigned lo = i + 1 < d.size() ? d[i + 1] : 0;
    acc += (hi << 8) | lo;
  }
  return acc;
}

uint16_t finish(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(~acc & 0xFFFF);
}

void padTo4(std::vector<uint8_t>& v) {
  while (v.size() % 4 != 0) v.push_back(0);
}

}  // namespace

core::IpAddr ipFromText(std::string_view text) {
  core::IpAddr a;
  if (parseV4Text(text, a) || parseV6Text(text, a)) return a;
  badLiteral();
}

core::Endpoint endpoint(std::string_view ip, uint16_t port) {
  return core::Endpoint{ipFromText(ip), port};
}

core::Endpoint endpoint(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text[0] == '[') {
    const size_t close = text.find("]:");
    if (close == std::string_view::npos) badLiteral();
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) badLiteral();
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  uint16_t p = 0;
  if (!core::parseNumber(port, p, uint16_t{0}, uint16_t{65535}, kAnyLength)) badLiteral();
  return endpoint(host, p);
}

uint16_t internetChecksum(std::span<const uint8_t> data) { return finish(sum(data, 0)); }

PacketBuilder& PacketBuilder::v4(const core::Endpoint& src, const core::Endpoint& dst) {
  family_ = core::Family::V4;
  src_ = src;
  dst_ = dst;
  return *this;
}
PacketBuilder& PacketBuilder::v6(const core::Endpoint& src, const core::Endpoint& dst) {
  family_ = core::Family::V6;
  src_ = src;
  dst_ = dst;
  return *this;
}
PacketBuilder& PacketBuilder::seq(uint32_t v) {
  seq_ = v;
  return *this;
}
PacketBuilder& PacketBuilder::ack(uint32_t v) {
  ack_ = v;
  return *this;
}
PacketBuilder& PacketBuilder::flags(uint8_t v) {
  flags_ = v;
  return *this;
}
PacketBuilder& PacketBuilder::window(uint16_t v) {
  window_ = v;
  return *this;
}
PacketBuilder& PacketBuilder::ttl(uint8_t v) {
  ttl_ = v;
  return *this;
}
PacketBuilder& PacketBuilder::ipId(uint16_t v) {
  ipId_ = v;
  return *this;
}
PacketBuilder& PacketBuilder::mss(uint16_t v) {
  tcpOptions_.push_back(2);
  tcpOptions_.push_back(4);
  put16(tcpOptions_, v);
  return *this;
}
PacketBuilder& PacketBuilder::sack(std::initializer_list<core::SackBlock> blocks) {
  return sack(std::span<const core::SackBlock>(blocks.begin(), blocks.size()));
}
PacketBuilder& PacketBuilder::sack(std::span<const core::SackBlock> blocks) {
  tcpOptions_.push_back(5);
  tcpOptions_.push_back(static_cast<uint8_t>(2 + 8 * blocks.size()));
  for (const auto& b : blocks) {
    put32(tcpOptions_, b.left);
    put32(tcpOptions_, b.right);
  }
  return *this;
}
PacketBuilder& PacketBuilder::timestamps(uint32_t tsval, uint32_t tsecr) {
  tcpOptions_.push_back(8);
  tcpOptions_.push_back(10);
  put32(tcpOptions_, tsval);
  put32(tcpOptions_, tsecr);
  return *this;
}
PacketBuilder& PacketBuilder::wscale(uint8_t shift) {
  tcpOptions_.insert(tcpOptions_.end(), {3, 3, shift});
  return *this;
}
PacketBuilder& PacketBuilder::sackPermitted() {
  tcpOptions_.insert(tcpOptions_.end(), {4, 2});
  return *this;
}
PacketBuilder& PacketBuilder::nop(size_t count) {
  tcpOptions_.insert(tcpOptions_.end(), count, 1);
  return *this;
}
PacketBuilder& PacketBuilder::eol() {
  tcpOptions_.push_back(0);
  return *this;
}
PacketBuilder& PacketBuilder::rawOption(std::span<const uint8_t> bytes) {
  tcpOptions_.insert(tcpOptions_.end(), bytes.begin(), bytes.end());
  return *this;
}
PacketBuilder& PacketBuilder::payload(std::string_view text) {
  payload_.assign(text.begin(), text.end());
  return *this;
}
PacketBuilder& PacketBuilder::payload(std::span<const uint8_t> bytes) {
  payload_.assign(bytes.begin(), bytes.end());
  return *this;
}
PacketBuilder& PacketBuilder::ipv4Options(std::span<const uint8_t> bytes) {
  ipOptions_.assign(bytes.begin(), bytes.end());
  return *this;
}
PacketBuilder& PacketBuilder::ipv4Fragment(uint16_t offsetUnits, bool moreFragments) {
  fragField_ = static_cast<uint16_t>((offsetUnits & 0x1FFF) | (moreFragments ? 0x2000 : 0));
  return *this;
}

namespace {
// PadN option filling `padBytes` (0 => none, 1 => Pad1).
std::vector<uint8_t> optionsBody(size_t padBytes) {
  std::vector<uint8_t> body;  // starts with the length byte
  body.push_back(static_cast<uint8_t>((2 + padBytes) / 8 - 1));
  if (padBytes == 1) {
    body.push_back(0);
  } else if (padBytes >= 2) {
    body.push_back(1);
    body.push_back(static_cast<uint8_t>(padBytes - 2));
    body.insert(body.end(), padBytes - 2, 0);
  }
  return body;
}
}  // namespace

PacketBuilder& PacketBuilder::hopByHop(size_t padBytes) {
  if ((2 + padBytes) % 8 != 0 || padBytes > 255) badLiteral();
  ext_.push_back(Ext{0, optionsBody(padBytes)});
  return *this;
}
PacketBuilder& PacketBuilder::destOptions(size_t padBytes) {
  if ((2 + padBytes) % 8 != 0 || padBytes > 255) badLiteral();
  ext_.push_back(Ext{60, optionsBody(padBytes)});
  return *this;
}
PacketBuilder& PacketBuilder::routing(std::initializer_list<core::IpAddr> addrs,
                                      uint8_t segmentsLeft) {
  std::vector<uint8_t> body;
  body.push_back(static_cast<uint8_t>(2 * addrs.size()));
  body.push_back(addrs.size() == 1 ? 2 : 0);
  body.push_back(segmentsLeft);
  body.insert(body.end(), 4, 0);
  for (const auto& a : addrs) body.insert(body.end(), a.bytes.begin(), a.bytes.end());
  if (segmentsLeft != 0 && addrs.size() != 0) finalDst_ = *(addrs.end() - 1);
  ext_.push_back(Ext{43, std::move(body)});
  return *this;
}
PacketBuilder& PacketBuilder::fragmentHeader(uint16_t offsetUnits, bool moreFragments) {
  std::vector<uint8_t> body{0};  // reserved (no length field)
  const auto field = static_cast<uint16_t>((offsetUnits & 0x1FFF) << 3 | (moreFragments ? 1 : 0));
  put16(body, field);
  put32(body, 0xCAFE);
  ext_.push_back(Ext{44, std::move(body)});
  return *this;
}
PacketBuilder& PacketBuilder::ah(size_t icvBytes) {
  if ((12 + icvBytes) % 8 != 0) badLiteral();
  std::vector<uint8_t> body;
  body.push_back(static_cast<uint8_t>((12 + icvBytes) / 4 - 2));
  body.insert(body.end(), {0, 0});  // reserved
  put32(body, 0x100);               // SPI
  put32(body, 1);                   // sequence
  body.insert(body.end(), icvBytes, 0);
  ext_.push_back(Ext{51, std::move(body)});
  return *this;
}
PacketBuilder& PacketBuilder::extHeader(uint8_t type, std::span<const uint8_t> body) {
  ext_.push_back(Ext{type, std::vector<uint8_t>(body.begin(), body.end())});
  return *this;
}
PacketBuilder& PacketBuilder::tcpChecksum(uint16_t v) {
  tcpChecksum_ = v;
  return *this;
}
PacketBuilder& PacketBuilder::trailer(size_t bytes, uint8_t fill) {
  trailer_ = bytes;
  trailerFill_ = fill;
  return *this;
}

std::vector<uint8_t> PacketBuilder::build() const {
  if (family_ == core::Family::None) badLiteral();

  // TCP segment.
  std::vector<uint8_t> opts = tcpOptions_;
  padTo4(opts);
  if (opts.size() > 40) badLiteral();
  std::vector<uint8_t> tcp;
  put16(tcp, src_.port);
  put16(tcp, dst_.port);
  put32(tcp, seq_);
  put32(tcp, ack_);
  tcp.push_back(static_cast<uint8_t>(((20 + opts.size()) / 4) << 4));
  tcp.push_back(flags_);
  put16(tcp, window_);
  put16(tcp, 0);  // checksum
  put16(tcp, 0);  // urgent pointer
  tcp.insert(tcp.end(), opts.begin(), opts.end());
  tcp.insert(tcp.end(), payload_.begin(), payload_.end());

  const core::IpAddr& pdst = finalDst_ ? *finalDst_ : dst_.addr;
  std::vector<uint8_t> pseudo;
  if (family_ == core::Family::V4) {
    pseudo.insert(pseudo.end(), src_.addr.bytes.begin(), src_.addr.bytes.begin() + 4);
    pseudo.insert(pseudo.end(), pdst.bytes.begin(), pdst.bytes.begin() + 4);
    pseudo.push_back(0);
    pseudo.push_back(6);
    put16(pseudo, static_cast<uint16_t>(tcp.size()));
  } else {
    pseudo.insert(pseudo.end(), src_.addr.bytes.begin(), src_.addr.bytes.end());
    pseudo.insert(pseudo.end(), pdst.bytes.begin(), pdst.bytes.end());
    put32(pseudo, static_cast<uint32_t>(tcp.size()));
    put32(pseudo, 6);
  }
  const uint16_t csum = tcpChecksum_ ? *tcpChecksum_ : finish(sum(tcp, sum(pseudo, 0)));
  set16(tcp, 16, csum);

  std::vector<uint8_t> pkt;
  if (family_ == core::Family::V4) {
    std::vector<uint8_t> ipopts = ipOptions_;
    padTo4(ipopts);
    const size_t ihl = 20 + ipopts.size();
    pkt.push_back(static_cast<uint8_t>(0x40 | (ihl / 4)));
    pkt.push_back(0);  // DSCP/ECN
    put16(pkt, static_cast<uint16_t>(ihl + tcp.size()));
    put16(pkt, ipId_);
    put16(pkt, fragField_);
    pkt.push_back(ttl_);
    pkt.push_back(6);
    put16(pkt, 0);
    pkt.insert(pkt.end(), src_.addr.bytes.begin(), src_.addr.bytes.begin() + 4);
    pkt.insert(pkt.end(), dst_.addr.bytes.begin(), dst_.addr.bytes.begin() + 4);
    pkt.insert(pkt.end(), ipopts.begin(), ipopts.end());
    set16(pkt, 10, internetChecksum(pkt));
  } else {
    std::vector<uint8_t> chain;
    for (size_t i = 0; i < ext_.size(); ++i) {
      chain.push_back(i + 1 < ext_.size() ? ext_[i + 1].type : 6);
      chain.insert(chain.end(), ext_[i].body.begin(), ext_[i].body.end());
    }
    put32(pkt, 0x60000000);
    put16(pkt, static_cast<uint16_t>(chain.size() + tcp.size()));
    pkt.push_back(ext_.empty() ? 6 : ext_[0].type);
    pkt.push_back(ttl_);
    pkt.insert(pkt.end(), src_.addr.bytes.begin(), src_.addr.bytes.end());
    pkt.insert(pkt.end(), dst_.addr.bytes.begin(), dst_.addr.bytes.end());
    pkt.insert(pkt.end(), chain.begin(), chain.end());
  }
  pkt.insert(pkt.end(), tcp.begin(), tcp.end());
  pkt.insert(pkt.end(), trailer_, trailerFill_);
  return pkt;
}

}  // namespace ftpalg::test
