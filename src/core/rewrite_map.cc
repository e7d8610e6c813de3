#include "rewrite_map.h"

#include <algorithm>
#include <cstring>

#include "seq_math.h"

namespace ftpalg::core {

bool RewriteMap::add(uint32_t origStart, uint16_t origLen, std::span<const char> text) {
  if (count_ == kMaxRecords || text.size() > rec_[0].text.size()) return false;
  RewriteRecord& r = rec_[count_++];
  r.origStart = origStart;
  r.origLen = origLen;
  r.newLen = static_cast<uint8_t>(text.size());
  std::memcpy(r.text.data(), text.data(), text.size());
  return true;
}

uint32_t RewriteMap::toRewritten(uint32_t orig) const {
  int64_t delta = base_;
  for (size_t i = 0; i < count_; ++i) {
    const RewriteRecord& r = rec_[i];
    const uint32_t end = r.origStart + r.origLen;
    if (seqGe(orig, end)) {
      delta += static_cast<int64_t>(r.newLen) - r.origLen;
      continue;
    }
    if (seqGt(orig, r.origStart)) {
      const uint32_t into = std::min<uint32_t>(orig - r.origStart, r.newLen);
      return seqAdd(r.origStart, delta) + into;
    }
    break;
  }
  return seqAdd(orig, delta);
}

uint32_t RewriteMap::toOriginal(uint32_t rewritten) const {
  int64_t delta = base_;
  for (size_t i = 0; i < count_; ++i) {
    const RewriteRecord& r = rec_[i];
    const uint32_t mappedStart = seqAdd(r.origStart, delta);
    const uint32_t mappedEnd = mappedStart + r.newLen;
    if (seqGe(rewritten, mappedEnd)) {
      delta += static_cast<int64_t>(r.newLen) - r.origLen;
      continue;
    }
    if (seqGt(rewritten, mappedStart)) return r.origStart;
    break;
  }
  return seqAdd(rewritten, -delta);
}

bool RewriteMap::collapseUpTo(uint32_t acked, uint32_t* foldedEnd) {
  size_t n = 0;
  while (n < count_ && seqLe(rec_[n].origStart + rec_[n].origLen, acked)) {
    base_ += static_cast<int64_t>(rec_[n].newLen) - rec_[n].origLen;
    ++n;
  }
  if (n == 0) return false;
  if (foldedEnd != nullptr) *foldedEnd = rec_[n - 1].origStart + rec_[n - 1].origLen;
  for (size_t i = n; i < count_; ++i) rec_[i - n] = rec_[i];
  count_ -= n;
  return true;
}

bool RewriteMap::touches(uint32_t from, uint32_t to) const {
  for (size_t i = 0; i < count_; ++i) {
    const RewriteRecord& r = rec_[i];
    if (seqLt(r.origStart, to) && seqGt(r.origStart + r.origLen, from)) return true;
    if (r.origLen == 0 && seqGe(r.origStart, from) && seqLt(r.origStart, to)) return true;
  }
  return false;
}

size_t RewriteMap::render(uint32_t from, uint32_t to, std::span<const uint8_t> orig,
                          uint32_t origBase, std::span<uint8_t> out) const {
  size_t w = 0;
  auto copyOrig = [&](uint32_t a, uint32_t b) -> bool {
    const auto n = static_cast<size_t>(seqDiff(b, a));
    if (n == 0) return true;
    // A range starting before origBase has a negative offset: refuse it rather than let the
    // unsigned sum wrap around below the buffer.
    if (seqLt(a, origBase)) return false;
    const auto off = static_cast<size_t>(seqDiff(a, origBase));
    if (off > orig.size() || n > orig.size() - off || w + n > out.size()) return false;
    std::memcpy(out.data() + w, orig.data() + off, n);
    w += n;
    return true;
  };
  uint32_t p = from;
  for (size_t i = 0; i < count_; ++i) {
    const RewriteRecord& r = rec_[i];
    const uint32_t end = r.origStart + r.origLen;
    if (seqLe(end, p) && r.origLen != 0) continue;
    if (seqGe(r.origStart, to)) break;
    if (seqLt(p, r.origStart)) {
      if (!copyOrig(p, r.origStart)) return SIZE_MAX;
      p = r.origStart;
    }
    const uint32_t lo = std::min<uint32_t>(p - r.origStart, r.newLen);
    const uint32_t hi = seqGe(to, end) ? r.newLen : std::min<uint32_t>(to - r.origStart, r.newLen);
    if (hi > lo) {
      if (w + (hi - lo) > out.size()) return SIZE_MAX;
      std::memcpy(out.data() + w, r.text.data() + lo, hi - lo);
      w += hi - lo;
    }
    p = seqMin(to, end);
  }
  if (seqLt(p, to) && !copyOrig(p, to)) return SIZE_MAX;
  return w;
}

}  // namespace ftpalg::core
