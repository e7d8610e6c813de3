#include "ftpalg/report/event_json.h"

#include <cassert>

#include "ftpalg/core/ftp_parser.h"
#include "ftpalg/core/types.h"

namespace ftpalg::report {

void JsonWriter::raw(std::string_view s) { out_.append(s.data(), s.data() + s.size()); }

void JsonWriter::separate() {
  if (afterKey_) {
    afterKey_ = false;
    return;
  }
  if (depth_ > 0) {
    if (!first_[depth_ - 1]) out_.push_back(',');
    first_[depth_ - 1] = false;
  }
}

void JsonWriter::beginObject() {
  separate();
  assert(depth_ < kMaxDepth);
  out_.push_back('{');
  first_[depth_++] = true;
}

void JsonWriter::endObject() {
  assert(depth_ > 0);
  --depth_;
  out_.push_back('}');
}

void JsonWriter::beginArray() {
  separate();
  assert(depth_ < kMaxDepth);
  out_.push_back('[');
  first_[depth_++] = true;
}

void JsonWriter::endArray() {
  assert(depth_ > 0);
  --depth_;
  out_.push_back(']');
}

void JsonWriter::rawValue(std::string_view json) {
  separate();
  raw(json);
}

void JsonWriter::key(std::string_view k) {
  separate();
  escaped(k);
  out_.push_back(':');
  afterKey_ = true;
}

void JsonWriter::string(std::string_view s) {
  separate();
  escaped(s);
}

void JsonWriter::number(uint64_t n) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", n);
}

void JsonWriter::number(int64_t n) {
  separate();
  fmt::format_to(std::back_inserter(out_), "{}", n);
}

void JsonWriter::fixed(uint64_t scaled, unsigned decimals) {
  separate();
  uint64_t divisor = 1;
  for (unsigned i = 0; i < decimals; ++i) divisor *= 10;
  if (decimals == 0) {
    fmt::format_to(std::back_inserter(out_), "{}", scaled);
  } else {
    fmt::format_to(std::back_inserter(out_), "{}.{:0{}}", scaled / divisor, scaled % divisor,
                   decimals);
  }
}

void JsonWriter::boolean(bool b) {
  separate();
  raw(b ? "true" : "false");
}

void JsonWriter::null() {
  separate();
  raw("null");
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
size_t utf8Sequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  size_t len = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return len;
}

}  // namespace

void JsonWriter::escaped(std::string_view s) {
  out_.push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const size_t len = utf8Sequence(s, i);
      if (len == 0) {
        raw("\\ufffd");
        ++i;
      } else {
        out_.append(s.data() + i, s.data() + i + len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        raw("\\\"");
        break;
      case '\\':
        raw("\\\\");
        break;
      case '\b':
        raw("\\b");
        break;
      case '\f':
        raw("\\f");
        break;
      case '\n':
        raw("\\n");
        break;
      case '\r':
        raw("\\r");
        break;
      case '\t':
        raw("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          fmt::format_to(std::back_inserter(out_), "\\u{:04x}", c);
        } else {
          out_.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out_.push_back('"');
}

namespace {

constexpr size_t kEndpointText = 64;

void endpointValue(JsonWriter& w, const core::Endpoint& ep) {
  std::array<char, kEndpointText> buf{};
  const size_t n = core::formatEndpoint(ep, buf);
  w.string(std::string_view(buf.data(), n));
}

void ipValue(JsonWriter& w, const core::IpAddr& ip) {
  std::array<char, kEndpointText> buf{};
  const size_t n = core::formatIp(ip, buf);
  w.string(std::string_view(buf.data(), n));
}

void flowValue(JsonWriter& w, const core::FlowKey& flow) {
  std::array<char, 2 * kEndpointText + 1> buf{};
  size_t n = core::formatEndpoint(flow.client, std::span<char>(buf).first(kEndpointText));
  buf[n++] = '-';
  n += core::formatEndpoint(flow.server, std::span<char>(buf).subspan(n, kEndpointText));
  w.string(std::string_view(buf.data(), n));
}

}  // namespace

void appendEventJson(const core::Event& event, fmt::memory_buffer& out) {
  JsonWriter w(out);
  w.beginObject();
  w.key("ts");
  w.fixed(event.tsNs / 1000, 6);
  w.key("flow");
  flowValue(w, event.flow);
  w.key("dir");
  w.string(event.dir == core::Dir::C2S ? "c2s" : "s2c");
  w.key("kind");
  w.string(core::eventKindName(event.kind));
  w.key("announced");
  if (event.hasAnnounced) {
    endpointValue(w, event.announced);
  } else {
    w.null();
  }
  w.key("rewritten");
  if (event.hasRewritten) {
    endpointValue(w, event.rewritten);
  } else {
    w.null();
  }
  w.key("expect");
  if (event.hasExpect) {
    const core::Expectation& x = event.expect;
    w.beginObject();
    w.key("proto");
    w.string("tcp");
    w.key("src");
    ipValue(w, x.src.addr);
    w.key("src_port");
    if (x.srcPortAny) {
      w.string("any");
    } else {
      w.number(uint64_t{x.src.port});
    }
    w.key("dst");
    endpointValue(w, x.dst);
    w.key("nat_to");
    endpointValue(w, x.natTo);
    if (x.hasSrcNat) {
      w.key("src_nat_to");
      ipValue(w, x.srcNatTo);
    }
    w.endObject();
  } else {
    w.null();
  }
  w.key("verdict");
  w.string(core::verdictName(event.verdict));
  w.key("reason");
  w.string(core::reasonName(event.reason));
  if (event.parseError != core::ParseError::None) {
    w.key("parse_error");
    w.string(core::parseErrorName(event.parseError));
  }
  w.endObject();
}

}  // namespace ftpalg::report
