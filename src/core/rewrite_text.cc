#include "rewrite_text.h"

#include <cstring>

namespace ftpalg::core {

RewriteText rewriteText(const WireForm& form, const Endpoint& ep, char delim) {
  RewriteText r;
  r.len = form.format(ep, delim, r.text);
  if (r.len != 0) return r;
  r.why = Reason::UnwritableAddress;
  if (form.delimited) {
    std::array<char, 64> ip{};
    const size_t n = formatIp(ep.addr, ip);
    if (n != 0 && std::memchr(ip.data(), delim, n) != nullptr) r.why = Reason::DelimiterInAddress;
  }
  return r;
}

}  // namespace ftpalg::core
