// The rewrite history of one direction of a control connection: every splice made to the byte
// stream that the peer has not yet acknowledged, plus the sum of the older ones. It maps
// positions between the original stream (what the sender sent) and the rewritten stream (what
// the receiver gets), and produces the rewritten bytes of any original range, so a
// retransmission is rewritten exactly like the first transmission. Unlike the kernel's seqadj
// (one correction point per direction) it keeps every correction still inside the window.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ftpalg::core {

// One splice: original bytes [origStart, origStart + origLen) became text[0..newLen).
struct RewriteRecord {
  uint32_t origStart = 0;
  uint16_t origLen = 0;
  uint8_t newLen = 0;
  std::array<char, 80> text{};  // longest: LPRT/228 IPv6 text (78)
};

// Records in stream order over a base delta (the collapsed, acknowledged history).
class RewriteMap {
 public:
  static constexpr size_t kMaxRecords = 8;

  [[nodiscard]] bool full() const { return count_ == kMaxRecords; }
  [[nodiscard]] size_t size() const { return count_; }
  [[nodiscard]] int64_t baseDelta() const { return base_; }
  void setBaseDelta(int64_t d) { base_ = d; }
  void clear() { count_ = 0; }
  // Record `i` of size(), oldest first (session snapshots).
  [[nodiscard]] const RewriteRecord& record(size_t i) const { return rec_[i]; }

  // Appends a splice (must start at or after the end of the previous one). False when full.
  bool add(uint32_t origStart, uint16_t origLen, std::span<const char> text);

  // Original position -> rewritten position. A position inside a splice maps to the matching
  // offset in its replacement, clamped to the replacement's end.
  [[nodiscard]] uint32_t toRewritten(uint32_t orig) const;
  // Rewritten position -> original position (acknowledgements). A position inside a
  // replacement maps back to the splice's start: never acknowledge what was not delivered.
  [[nodiscard]] uint32_t toOriginal(uint32_t rewritten) const;

  // Folds every splice that ends at or before `acked` into the base delta. Returns true when
  // one was folded; `foldedEnd` (if given) then gets the original end of the last one folded.
  bool collapseUpTo(uint32_t acked, uint32_t* foldedEnd = nullptr);

  // Writes the rewritten bytes of original range [from, to) into out, reading original bytes
  // through `orig` (orig[0] is position `origBase`). Returns bytes written, or SIZE_MAX when
  // out is too small or the range needs original bytes outside `orig`.
  size_t render(uint32_t from, uint32_t to, std::span<const uint8_t> orig, uint32_t origBase,
                std::span<uint8_t> out) const;

  // True when [from, to) overlaps a live splice.
  [[nodiscard]] bool touches(uint32_t from, uint32_t to) const;

 private:
  int64_t base_ = 0;
  std::array<RewriteRecord, kMaxRecords> rec_{};
  size_t count_ = 0;
};

}  // namespace ftpalg::core
