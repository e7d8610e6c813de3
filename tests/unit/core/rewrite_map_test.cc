// RewriteMap: position mapping both ways, collapse, and rendering of original ranges, with
// growing and shrinking splices, several records, and sequence numbers that wrap at 2^32.
#include "src/core/rewrite_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ftpalg::test {

using namespace ftpalg::core;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

std::span<const char> text(std::string_view s) { return {s.data(), s.size()}; }

// Original stream bytes at positions [base, base + n): "abcdefghij..." repeating.
std::vector<uint8_t> origBytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>('a' + i % 26);
  return v;
}

// Renders [from, to) into a string; "<fail>" when render reports SIZE_MAX.
std::string renderRange(const RewriteMap& m, uint32_t from, uint32_t to,
                        const std::vector<uint8_t>& orig, uint32_t base, size_t outCap = 4096) {
  std::vector<uint8_t> out(outCap);
  const size_t n = m.render(from, to, orig, base, out);
  if (n == SIZE_MAX) return "<fail>";
  return std::string(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
}

// What the receiver gets for the whole original buffer, built by hand from the splices.
struct Splice {
  uint32_t start;
  uint16_t len;
  std::string text;
};
std::string expectedStream(const std::vector<uint8_t>& orig, uint32_t base,
                           const std::vector<Splice>& splices) {
  std::string out;
  uint32_t p = base;
  for (const Splice& s : splices) {
    for (; p != s.start; ++p) out.push_back(static_cast<char>(orig[p - base]));
    out += s.text;
    p = s.start + s.len;
  }
  for (; p != base + static_cast<uint32_t>(orig.size()); ++p) {
    out.push_back(static_cast<char>(orig[p - base]));
  }
  return out;
}

TEST(RewriteMap, EmptyMapIsTheBaseDelta) {
  RewriteMap m;
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.full());
  EXPECT_EQ(m.toRewritten(1234), 1234u);
  EXPECT_EQ(m.toOriginal(1234), 1234u);
  m.setBaseDelta(7);
  EXPECT_EQ(m.toRewritten(1234), 1241u);
  EXPECT_EQ(m.toOriginal(1241), 1234u);
  m.setBaseDelta(-3);
  EXPECT_EQ(m.toRewritten(1234), 1231u);
  EXPECT_EQ(m.toOriginal(1231), 1234u);
}

TEST(RewriteMap, GrowingSpliceMapsBothWays) {
  RewriteMap m;
  // 15 original bytes become 17: "10,0,0,1,195,80" -> "203,0,113,7,195,80" style growth.
  ASSERT_TRUE(m.add(100, 15, text("ABCDEFGHIJKLMNOPQ")));
  EXPECT_EQ(m.toRewritten(99), 99u);
  EXPECT_EQ(m.toRewritten(100), 100u);  // splice start: before the replacement
  EXPECT_EQ(m.toRewritten(107), 107u);  // inside: same offset into the replacement
  EXPECT_EQ(m.toRewritten(114), 114u);
  EXPECT_EQ(m.toRewritten(115), 117u);  // splice end: after the replacement
  EXPECT_EQ(m.toRewritten(200), 202u);
  EXPECT_EQ(m.toOriginal(99), 99u);
  EXPECT_EQ(m.toOriginal(100), 100u);
  EXPECT_EQ(m.toOriginal(101), 100u);  // inside the replacement: back to the splice start
  EXPECT_EQ(m.toOriginal(116), 100u);
  EXPECT_EQ(m.toOriginal(117), 115u);
  EXPECT_EQ(m.toOriginal(202), 200u);
}

TEST(RewriteMap, ShrinkingSpliceClampsInsideTheReplacement) {
  RewriteMap m;
  ASSERT_TRUE(m.add(100, 15, text("0123456789")));  // 15 -> 10
  EXPECT_EQ(m.toRewritten(105), 105u);
  EXPECT_EQ(m.toRewritten(110), 110u);
  EXPECT_EQ(m.toRewritten(112), 110u);  // past the replacement's end: clamped
  EXPECT_EQ(m.toRewritten(114), 110u);
  EXPECT_EQ(m.toRewritten(115), 110u);
  EXPECT_EQ(m.toRewritten(120), 115u);
  EXPECT_EQ(m.toOriginal(109), 100u);
  EXPECT_EQ(m.toOriginal(110), 115u);
  EXPECT_EQ(m.toOriginal(115), 120u);
}

TEST(RewriteMap, SeveralRecordsAccumulateTheirDeltas) {
  RewriteMap m;
  m.setBaseDelta(4);
  ASSERT_TRUE(m.add(100, 10, text("ABCDEFGHIJKL")));  // +2
  ASSERT_TRUE(m.add(150, 10, text("abcde")));         // -5
  ASSERT_TRUE(m.add(150 + 10, 3, text("xyz")));       // 0, adjacent to the previous one
  ASSERT_TRUE(m.add(300, 1, text("12345678")));       // +7
  EXPECT_EQ(m.size(), 4u);
  EXPECT_EQ(m.toRewritten(50), 54u);
  EXPECT_EQ(m.toRewritten(110), 116u);
  EXPECT_EQ(m.toRewritten(150), 156u);
  EXPECT_EQ(m.toRewritten(155), 161u);
  EXPECT_EQ(m.toRewritten(158), 161u);  // clamped inside the shrinking splice
  EXPECT_EQ(m.toRewritten(160), 161u);
  EXPECT_EQ(m.toRewritten(161), 162u);
  EXPECT_EQ(m.toRewritten(163), 164u);
  EXPECT_EQ(m.toRewritten(300), 301u);
  EXPECT_EQ(m.toRewritten(301), 309u);
  EXPECT_EQ(m.toRewritten(1000), 1008u);
  // Every position outside the inside of a splice round-trips.
  for (uint32_t p = 40; p < 400; ++p) {
    // (The one-byte splice at 300 has no inside.)
    const bool inside = (p > 100 && p < 110) || (p > 150 && p < 160) || (p > 160 && p < 163);
    if (inside) continue;
    EXPECT_EQ(m.toOriginal(m.toRewritten(p)), p) << p;
  }
  // Inside a replacement, acknowledgements map back to the splice's start.
  EXPECT_EQ(m.toOriginal(107), 100u);
  EXPECT_EQ(m.toOriginal(160), 150u);
  EXPECT_EQ(m.toOriginal(305), 300u);
}

TEST(RewriteMap, WrapsAroundTwoToTheThirtyTwo) {
  RewriteMap m;
  const uint32_t start = 0xFFFFFFF8u;
  ASSERT_TRUE(m.add(start, 15, text("ABCDEFGHIJKLMNOPQ")));  // covers 0xFFFFFFF8 .. 6
  ASSERT_TRUE(m.add(20, 4, text("xy")));
  EXPECT_EQ(m.toRewritten(0xFFFFFFF0u), 0xFFFFFFF0u);
  EXPECT_EQ(m.toRewritten(start), start);
  EXPECT_EQ(m.toRewritten(0xFFFFFFFFu), 0xFFFFFFFFu);
  EXPECT_EQ(m.toRewritten(2), 2u);  // offset 10 into the replacement, past the wrap
  EXPECT_EQ(m.toRewritten(7), 9u);
  EXPECT_EQ(m.toRewritten(20), 22u);
  EXPECT_EQ(m.toRewritten(24), 24u);
  EXPECT_EQ(m.toOriginal(9), 7u);
  EXPECT_EQ(m.toOriginal(1), start);
  EXPECT_EQ(m.toOriginal(0xFFFFFFFFu), start);
  EXPECT_EQ(m.toOriginal(24), 24u);
  EXPECT_EQ(m.toOriginal(23), 20u);

  RewriteMap neg;
  neg.setBaseDelta(-10);
  EXPECT_EQ(neg.toRewritten(5), 0xFFFFFFFBu);
  EXPECT_EQ(neg.toOriginal(0xFFFFFFFBu), 5u);
}

TEST(RewriteMap, CollapseFoldsOnlyAcknowledgedSplices) {
  RewriteMap m;
  ASSERT_TRUE(m.add(100, 10, text("ABCDEFGHIJKL")));  // +2
  ASSERT_TRUE(m.add(150, 10, text("abcde")));         // -5
  ASSERT_TRUE(m.add(200, 5, text("123456")));         // +1
  const uint32_t probes[] = {50, 100, 105, 110, 150, 155, 160, 199, 200, 203, 205, 500};
  std::vector<uint32_t> before;
  for (uint32_t p : probes) before.push_back(m.toRewritten(p));

  m.collapseUpTo(109);  // inside the first splice: nothing folds
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.baseDelta(), 0);
  m.collapseUpTo(160);  // exactly the end of the second
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.baseDelta(), -3);
  // Positions after the acknowledged point map as before.
  for (size_t i = 0; i < std::size(probes); ++i) {
    if (probes[i] >= 160) {
      EXPECT_EQ(m.toRewritten(probes[i]), before[i]) << probes[i];
    }
  }
  EXPECT_EQ(m.toOriginal(m.toRewritten(500)), 500u);
  m.collapseUpTo(1000);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.baseDelta(), -2);
  EXPECT_EQ(m.toRewritten(500), before.back());
}

TEST(RewriteMap, CollapseAcrossTheWrap) {
  RewriteMap m;
  ASSERT_TRUE(m.add(0xFFFFFFF0u, 8, text("ABCDEFGHIJ")));  // +2, ends at 0xFFFFFFF8
  ASSERT_TRUE(m.add(0xFFFFFFFCu, 8, text("abc")));         // -5, ends at 4
  m.collapseUpTo(2);
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.baseDelta(), 2);
  m.collapseUpTo(4);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.baseDelta(), -3);
  EXPECT_EQ(m.toRewritten(10), 7u);
}

TEST(RewriteMap, AddRefusesWhenFullOrTextTooLong) {
  RewriteMap m;
  const size_t cap = RewriteRecord{}.text.size();
  EXPECT_FALSE(m.add(0, 1, text(std::string(cap + 1, 'x'))));
  EXPECT_TRUE(m.add(0, 1, text(std::string(cap, 'x'))));
  for (size_t i = 1; i < RewriteMap::kMaxRecords; ++i) {
    EXPECT_TRUE(m.add(static_cast<uint32_t>(i * 10), 2, text("ab")));
  }
  EXPECT_TRUE(m.full());
  EXPECT_FALSE(m.add(1000, 2, text("ab")));
  EXPECT_EQ(m.size(), RewriteMap::kMaxRecords);
  m.clear();
  EXPECT_EQ(m.size(), 0u);
}

TEST(RewriteMap, TouchesOnlyOverlappingRanges) {
  RewriteMap m;
  ASSERT_TRUE(m.add(100, 10, text("ABCDEFGHIJKL")));
  EXPECT_FALSE(m.touches(90, 100));
  EXPECT_TRUE(m.touches(90, 101));
  EXPECT_TRUE(m.touches(105, 106));
  EXPECT_TRUE(m.touches(109, 200));
  EXPECT_FALSE(m.touches(110, 200));
  RewriteMap w;
  ASSERT_TRUE(w.add(0xFFFFFFFEu, 4, text("abcdef")));
  EXPECT_TRUE(w.touches(0, 1));
  EXPECT_TRUE(w.touches(0xFFFFFFF0u, 0xFFFFFFFFu));
  EXPECT_FALSE(w.touches(2, 10));
}

TEST(RewriteMap, RenderWholeRange) {
  const uint32_t base = 1000;
  const auto orig = origBytes(80);
  RewriteMap m;
  const std::vector<Splice> splices = {{1010, 5, "ABCDEFG"}, {1030, 8, "xyz"}, {1038, 2, "!!"}};
  for (const Splice& s : splices) ASSERT_TRUE(m.add(s.start, s.len, text(s.text)));
  const std::string want = expectedStream(orig, base, splices);
  EXPECT_EQ(renderRange(m, base, base + 80, orig, base), want);
  EXPECT_EQ(want.size(), 80u + 2 - 5 + 0);
}

TEST(RewriteMap, RenderRangesStartingAndEndingInsideSplices) {
  const uint32_t base = 1000;
  const auto orig = origBytes(80);
  RewriteMap m;
  m.setBaseDelta(3);  // irrelevant to rendering, relevant to positions
  const std::vector<Splice> splices = {{1010, 5, "ABCDEFG"}, {1030, 8, "xyz"}, {1038, 2, "!!"}};
  for (const Splice& s : splices) ASSERT_TRUE(m.add(s.start, s.len, text(s.text)));
  const std::string whole = expectedStream(orig, base, splices);
  const uint32_t r0 = m.toRewritten(base);
  // Explicit cases first, for readability.
  EXPECT_EQ(renderRange(m, 1012, 1020, orig, base), "CDEFG" + std::string("pqrst"));
  EXPECT_EQ(renderRange(m, 1005, 1012, orig, base), "fghij" + std::string("AB"));
  EXPECT_EQ(renderRange(m, 1011, 1013, orig, base), "BC");
  EXPECT_EQ(renderRange(m, 1014, 1015, orig, base), "EFG");  // the last byte carries the growth
  EXPECT_EQ(renderRange(m, 1033, 1038, orig, base), "");     // past a shrunk replacement's end
  EXPECT_EQ(renderRange(m, 1031, 1039, orig, base), "yz!");
  // Every sub-range renders exactly the rewritten bytes between its mapped ends.
  for (uint32_t from = base; from <= base + 80; ++from) {
    for (uint32_t to = from; to <= base + 80; ++to) {
      const size_t a = m.toRewritten(from) - r0;
      const size_t b = m.toRewritten(to) - r0;
      ASSERT_EQ(renderRange(m, from, to, orig, base), whole.substr(a, b - a))
          << "from " << from << " to " << to;
    }
  }
}

TEST(RewriteMap, RenderAcrossTheWrap) {
  const uint32_t base = 0xFFFFFFE0u;
  const auto orig = origBytes(64);
  RewriteMap m;
  const std::vector<Splice> splices = {{0xFFFFFFFAu, 12, "ABCDEFGHIJKLMN"}, {10, 4, "z"}};
  for (const Splice& s : splices) ASSERT_TRUE(m.add(s.start, s.len, text(s.text)));
  const std::string whole = expectedStream(orig, base, splices);
  const uint32_t end = base + 64;
  EXPECT_EQ(renderRange(m, base, end, orig, base), whole);
  const uint32_t r0 = m.toRewritten(base);
  for (uint32_t i = 0; i <= 64; ++i) {
    for (uint32_t j = i; j <= 64; ++j) {
      const uint32_t from = base + i;
      const uint32_t to = base + j;
      const size_t a = m.toRewritten(from) - r0;
      const size_t b = m.toRewritten(to) - r0;
      ASSERT_EQ(renderRange(m, from, to, orig, base), whole.substr(a, b - a))
          << "from +" << i << " to +" << j;
    }
  }
}

TEST(RewriteMap, RenderFailsWhenOutputTooSmall) {
  const auto orig = origBytes(40);
  RewriteMap m;
  ASSERT_TRUE(m.add(110, 5, text("ABCDEFG")));
  EXPECT_EQ(renderRange(m, 100, 140, orig, 100, 42),
            expectedStream(orig, 100, {{110, 5, "ABCDEFG"}}));
  EXPECT_EQ(renderRange(m, 100, 140, orig, 100, 41), "<fail>");
  EXPECT_EQ(renderRange(m, 100, 112, orig, 100, 11), "<fail>");  // inside the replacement
  EXPECT_EQ(renderRange(m, 100, 110, orig, 100, 9), "<fail>");   // before it
}

TEST(RewriteMap, RenderFailsOutsideTheOriginalBytes) {
  auto orig = origBytes(40);
  RewriteMap m;
  ASSERT_TRUE(m.add(110, 5, text("ABCDEFG")));
  EXPECT_EQ(renderRange(m, 120, 141, orig, 100), "<fail>");  // past the end
  EXPECT_EQ(renderRange(m, 96, 104, orig, 100), "<fail>");   // starts before origBase
  EXPECT_EQ(renderRange(m, 96, 112, orig, 100), "<fail>");
}

}  // namespace
}  // namespace ftpalg::test
