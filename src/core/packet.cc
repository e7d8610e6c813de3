// IPv4/IPv6 + TCP parse and rebuild. Byte order is handled by hand (no <arpa/inet.h>: the core
// includes no kernel or socket header). No allocation, no exceptions, no syscalls.
//
// Error rule: Truncated means the buffer is shorter than a header or than the IP length field
// says (a short capture). A header that does not fit inside the length the IP header declares
// is malformed instead: BadIpHeader for an IPv6 extension header, BadTcpHeader for the TCP
// header. Bytes beyond the IP length (Ethernet padding) are ignored.
#include "ftpalg/core/packet.h"

#include <cstring>

namespace ftpalg::core {
namespace {

constexpr uint8_t kProtoHopByHop = 0;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoRouting = 43;
constexpr uint8_t kProtoFragment = 44;
constexpr uint8_t kProtoAh = 51;
constexpr uint8_t kProtoDestOpts = 60;

constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr size_t kTcpMinHeader = 20;
constexpr size_t kMaxPacket = 65535;
// More extension headers than this is treated as malformed (RFC 8200 allows each type once,
// destination options twice; 8 leaves room for AH and an odd encapsulation).
constexpr int kMaxIpv6ExtHeaders = 8;

constexpr uint8_t kOptEol = 0;
constexpr uint8_t kOptNop = 1;
constexpr uint8_t kOptMss = 2;
constexpr uint8_t kOptSack = 5;
constexpr size_t kMssOptLen = 4;
constexpr size_t kSackBlockLen = 8;

uint16_t load16(const uint8_t* p) {
  return static_cast<uint16_t>((static_cast<unsigned>(p[0]) << 8) | p[1]);
}
uint32_t load32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}
void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void store32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Ones'-complement sum (RFC 1071) of `len` bytes added to `acc`, not yet folded. An odd
// trailing byte is padded with zero; callers only sum an odd block last.
uint64_t sumBytes(const uint8_t* p, size_t len, uint64_t acc) {
  size_t i = 0;
  for (; i + 4 <= len; i += 4) acc += load32(p + i);
  if (i + 2 <= len) {
    acc += load16(p + i);
    i += 2;
  }
  if (i < len) acc += static_cast<uint64_t>(p[i]) << 8;
  return acc;
}

uint16_t fold(uint64_t acc) {
  while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

// True when `v` describes headers that lie inside a buffer of `size` bytes.
bool viewFits(const PacketView& v, size_t size) {
  const size_t minL4 = v.family == Family::V4 ? kIpv4MinHeader : kIpv6Header;
  return v.family != Family::None && v.l4Offset >= minL4 && v.tcpHeaderLen >= kTcpMinHeader &&
         static_cast<size_t>(v.l4Offset) + v.tcpHeaderLen <= size;
}

void setAddr(IpAddr& a, Family f, const uint8_t* p) {
  a.family = f;
  std::memcpy(a.bytes.data(), p, f == Family::V4 ? 4 : 16);
}

// Destination address for the TCP pseudo-header. For IPv6 with a routing header that still has
// segments left, it is the final destination (RFC 8200 section 8.1): the last address of a
// type 0 or type 2 header, segment list[0] of a segment routing header (type 4, RFC 8754).
// The extension headers were validated by parsePacket, so the walk stays in bounds.
const uint8_t* pseudoDst(const uint8_t* ip, const PacketView& v) {
  if (v.family == Family::V4) return ip + 16;
  const uint8_t* dst = ip + 24;
  uint8_t next = ip[6];
  size_t off = kIpv6Header;
  while (off + 8 <= v.l4Offset && next != kProtoTcp) {
    const uint8_t* h = ip + off;
    size_t len = next == kProtoAh ? (static_cast<size_t>(h[1]) + 2) * 4
                                  : (static_cast<size_t>(h[1]) + 1) * 8;
    if (off + len > v.l4Offset) break;
    if (next == kProtoRouting && h[3] != 0) {
      const uint8_t type = h[2];
      if ((type == 0 || type == 2) && len >= 24) {
        dst = h + len - 16;
      } else if (type == 4 && len >= 24) {
        dst = h + 8;
      }
    }
    next = h[0];
    off += len;
  }
  return dst;
}

// Pseudo-header sum for a TCP segment of `tcpLen` bytes.
uint64_t pseudoSum(const uint8_t* ip, const PacketView& v, size_t tcpLen) {
  uint64_t acc = 0;
  if (v.family == Family::V4) {
    acc = sumBytes(ip + 12, 8, acc);  // source and destination
    acc += kProtoTcp;
    acc += tcpLen;
  } else {
    acc = sumBytes(ip + 8, 16, acc);
    acc = sumBytes(pseudoDst(ip, v), 16, acc);
    acc += (tcpLen >> 16) & 0xFFFF;
    acc += tcpLen & 0xFFFF;
    acc += kProtoTcp;
  }
  return acc;
}

// Walks the TCP options of the header at `tcp` (length `hl`), filling MSS and SACK.
PacketError parseOptions(const uint8_t* tcp, size_t hl, uint16_t l4Offset, PacketView& v) {
  size_t i = kTcpMinHeader;
  while (i < hl) {
    const uint8_t kind = tcp[i];
    if (kind == kOptEol) break;
    if (kind == kOptNop) {
      ++i;
      continue;
    }
    if (i + 1 >= hl) return PacketError::BadTcpOption;
    const size_t len = tcp[i + 1];
    if (len < 2 || i + len > hl) return PacketError::BadTcpOption;
    if (kind == kOptMss) {
      if (len != kMssOptLen) return PacketError::BadTcpOption;
      v.mss = load16(tcp + i + 2);
    } else if (kind == kOptSack) {
      // 2 + 8n bytes, 1 <= n <= 4. A malformed or second SACK option could not be rewritten
      // faithfully, so it is an error rather than skipped.
      const size_t body = len - 2;
      if (body == 0 || body % kSackBlockLen != 0 || body / kSackBlockLen > kMaxSackBlocks ||
          v.sackCount != 0) {
        return PacketError::BadTcpOption;
      }
      v.sackCount = static_cast<uint8_t>(body / kSackBlockLen);
      v.sackOffset = static_cast<uint16_t>(l4Offset + i + 2);
      for (size_t b = 0; b < v.sackCount; ++b) {
        const uint8_t* p = tcp + i + 2 + b * kSackBlockLen;
        v.sack[b] = SackBlock{load32(p), load32(p + 4)};
      }
    }
    i += len;
  }
  return PacketError::None;
}

// Parses the TCP header at `l4` within the IP packet ip[0, end).
PacketError parseTcp(const uint8_t* ip, size_t l4, size_t end, PacketView& v) {
  if (end - l4 < kTcpMinHeader) return PacketError::BadTcpHeader;
  const uint8_t* t = ip + l4;
  const size_t hl = static_cast<size_t>(t[12] >> 4) * 4;
  if (hl < kTcpMinHeader || hl > end - l4) return PacketError::BadTcpHeader;
  // Offsets are 16-bit; only an IPv6 jumbo-sized extension chain could push past them.
  if (l4 + hl > kMaxPacket) return PacketError::BadIpHeader;
  v.l4Offset = static_cast<uint16_t>(l4);
  v.tcpHeaderLen = static_cast<uint16_t>(hl);
  v.sport = load16(t);
  v.dport = load16(t + 2);
  v.seq = load32(t + 4);
  v.ack = load32(t + 8);
  v.flags = t[13];
  v.window = load16(t + 14);
  const PacketError e = parseOptions(t, hl, v.l4Offset, v);
  if (e != PacketError::None) return e;
  v.payload = std::span<const uint8_t>(t + hl, end - l4 - hl);
  return PacketError::None;
}

PacketError parseV4(std::span<const uint8_t> b, PacketView& v) {
  if (b.size() < kIpv4MinHeader) return PacketError::Truncated;
  const uint8_t* p = b.data();
  const size_t ihl = static_cast<size_t>(p[0] & 0x0F) * 4;
  if (ihl < kIpv4MinHeader) return PacketError::BadIpHeader;
  const size_t total = load16(p + 2);
  if (total < ihl) return PacketError::BadIpHeader;
  if (total > b.size()) return PacketError::Truncated;
  const uint16_t frag = load16(p + 6);
  if ((frag & 0x2000) != 0 || (frag & 0x1FFF) != 0) return PacketError::Fragment;
  if (p[9] != kProtoTcp) return PacketError::NotTcp;
  v.family = Family::V4;
  setAddr(v.src, Family::V4, p + 12);
  setAddr(v.dst, Family::V4, p + 16);
  return parseTcp(p, ihl, total, v);
}

PacketError parseV6(std::span<const uint8_t> b, PacketView& v) {
  if (b.size() < kIpv6Header) return PacketError::Truncated;
  const uint8_t* p = b.data();
  const size_t end = kIpv6Header + load16(p + 4);
  if (end > b.size()) return PacketError::Truncated;
  uint8_t next = p[6];
  size_t off = kIpv6Header;
  for (int n = 0; next != kProtoTcp; ++n) {
    if (next == kProtoFragment) return PacketError::Fragment;
    if (next != kProtoHopByHop && next != kProtoRouting && next != kProtoDestOpts &&
        next != kProtoAh) {
      return PacketError::NotTcp;  // 59 (no next header), UDP, ICMPv6, ESP, ...
    }
    // Hop-by-hop options may only follow the fixed header (RFC 8200 section 4.3).
    if (n >= kMaxIpv6ExtHeaders || (next == kProtoHopByHop && n != 0)) {
      return PacketError::BadIpHeader;
    }
    if (end - off < 8) return PacketError::BadIpHeader;
    const size_t len = next == kProtoAh ? (static_cast<size_t>(p[off + 1]) + 2) * 4
                                        : (static_cast<size_t>(p[off + 1]) + 1) * 8;
    if (len > end - off) return PacketError::BadIpHeader;
    next = p[off];
    off += len;
  }
  v.family = Family::V6;
  setAddr(v.src, Family::V6, p + 8);
  setAddr(v.dst, Family::V6, p + 24);
  return parseTcp(p, off, end, v);
}

}  // namespace

std::string_view packetErrorName(PacketError e) {
  switch (e) {
    case PacketError::None:
      return "none";
    case PacketError::Truncated:
      return "truncated";
    case PacketError::BadVersion:
      return "bad_version";
    case PacketError::BadIpHeader:
      return "bad_ip_header";
    case PacketError::Fragment:
      return "fragment";
    case PacketError::NotTcp:
      return "not_tcp";
    case PacketError::BadTcpHeader:
      return "bad_tcp_header";
    case PacketError::BadTcpOption:
      return "bad_tcp_option";
    case PacketError::Count:
      break;
  }
  return "unknown";
}

// The view is filled in place (no copy of the large struct); on error it is reset, so a
// failed parse never exposes a half-filled view.
PacketParse parsePacket(std::span<const uint8_t> ip) {
  PacketParse r;
  if (ip.empty()) {
    r.error = PacketError::Truncated;
  } else if (ip[0] >> 4 == 4) {
    r.error = parseV4(ip, r.view);
  } else if (ip[0] >> 4 == 6) {
    r.error = parseV6(ip, r.view);
  } else {
    r.error = PacketError::BadVersion;
  }
  if (r.error != PacketError::None) r.view = PacketView{};
  return r;
}

// `out` may be the very buffer `orig` lives in (in-place rewrite of a queued packet), and
// `payload` may point into it: every copy is a memmove and header fields are patched last.
size_t rebuildPacket(std::span<const uint8_t> orig, const PacketView& view, uint32_t seq,
                     uint32_t ack, std::span<const SackBlock> sack,
                     std::span<const uint8_t> payload, std::span<uint8_t> out) {
  const size_t l4 = view.l4Offset;
  const size_t hdrLen = l4 + view.tcpHeaderLen;
  if (!viewFits(view, orig.size()) || sack.size() != view.sackCount ||
      (view.sackCount != 0 &&
       static_cast<size_t>(view.sackOffset) + view.sackCount * kSackBlockLen > hdrLen)) {
    return 0;
  }
  if (payload.size() > kMaxPacket - hdrLen) return 0;
  const size_t total = hdrLen + payload.size();
  if (out.size() < total) return 0;

  uint8_t* o = out.data();
  std::memmove(o, orig.data(), hdrLen);
  if (!payload.empty()) std::memmove(o + hdrLen, payload.data(), payload.size());

  uint8_t* t = o + l4;
  store32(t + 4, seq);
  store32(t + 8, ack);
  for (size_t b = 0; b < sack.size(); ++b) {
    uint8_t* s = o + view.sackOffset + b * kSackBlockLen;
    store32(s, sack[b].left);
    store32(s + 4, sack[b].right);
  }

  if (view.family == Family::V4) {
    store16(o + 2, static_cast<uint16_t>(total));
    store16(o + 10, 0);
    store16(o + 10, static_cast<uint16_t>(~fold(sumBytes(o, l4, 0))));  // l4 == IHL * 4
  } else {
    store16(o + 4, static_cast<uint16_t>(total - kIpv6Header));
  }

  const size_t tcpLen = total - l4;
  store16(t + 16, 0);
  const uint64_t acc = sumBytes(t, tcpLen, pseudoSum(o, view, tcpLen));
  store16(t + 16, static_cast<uint16_t>(~fold(acc)));
  return total;
}

bool tcpChecksumValid(std::span<const uint8_t> ip, const PacketView& view) {
  const size_t l4 = view.l4Offset;
  const size_t end = l4 + view.tcpHeaderLen + view.payload.size();
  if (!viewFits(view, ip.size()) || end > ip.size()) return false;
  const size_t tcpLen = end - l4;
  const uint64_t acc = sumBytes(ip.data() + l4, tcpLen, pseudoSum(ip.data(), view, tcpLen));
  return fold(acc) == 0xFFFF;
}

}  // namespace ftpalg::core
