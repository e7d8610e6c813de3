// assembleLines: whole lines with the sequence number of their first byte, at every split
// point, with overlong and bad lines reported once and skipped through their LF.
#include "src/core/line_assembler.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace ftpalg::test {
namespace {

using core::ParseError;

// Records what the assembler reports; stops after `stopAfter` lines when set.
class Recorder final : public core::LineSink {
 public:
  struct Line {
    std::string text;
    uint32_t seq;
    bool operator==(const Line&) const = default;
  };
  std::vector<Line> lines;
  std::vector<ParseError> bad;
  size_t stopAfter = SIZE_MAX;

  bool stopped() override { return lines.size() >= stopAfter; }
  void onLine(std::string_view line, uint32_t seq) override {
    lines.push_back({std::string(line), seq});
  }
  void onBadLine(std::string_view, ParseError e) override { bad.push_back(e); }
};

// One direction's assembly state.
struct Direction {
  static constexpr size_t kMaxLine = 64;
  uint32_t lineStart = 100;
  bool discard = false;
  uint32_t lineLen = 0;
  std::vector<char> buffer = std::vector<char>(kMaxLine + 2);

  void feed(std::string_view bytes, uint32_t seq, core::LineSink& sink) {
    core::assembleLines(core::LineCursor{lineStart, discard, buffer, lineLen},
                        reinterpret_cast<const uint8_t*>(bytes.data()),
                        static_cast<uint32_t>(bytes.size()), seq, kMaxLine, sink);
  }
};

// Feeds `text` from seq 100 in pieces cut at `cuts`.
Recorder feedCut(std::string_view text, std::vector<size_t> cuts) {
  Recorder r;
  Direction d;
  size_t from = 0;
  cuts.push_back(text.size());
  for (size_t to : cuts) {
    d.feed(text.substr(from, to - from), static_cast<uint32_t>(100 + from), r);
    from = to;
  }
  return r;
}

TEST(LineAssembler, TwoLinesInOneSegment) {
  const Recorder r = feedCut("NOOP\r\nPORT 1,2,3,4,5,6\r\n", {});
  const std::vector<Recorder::Line> want{{"NOOP", 100}, {"PORT 1,2,3,4,5,6", 106}};
  EXPECT_EQ(r.lines, want);
  EXPECT_TRUE(r.bad.empty());
}

TEST(LineAssembler, EverySplitPointGivesTheSameLines) {
  const std::string_view text = "USER a\r\nPASV\r\n227 x (1,2,3,4,5,6)\n";
  const Recorder whole = feedCut(text, {});
  ASSERT_EQ(whole.lines.size(), 3u);
  for (size_t cut = 1; cut < text.size(); ++cut) {
    SCOPED_TRACE(cut);
    EXPECT_EQ(feedCut(text, {cut}).lines, whole.lines);
  }
  std::vector<size_t> bytes;
  for (size_t i = 1; i < text.size(); ++i) bytes.push_back(i);
  EXPECT_EQ(feedCut(text, bytes).lines, whole.lines);
}

TEST(LineAssembler, PartialLineWaitsForItsEnd) {
  Recorder r;
  Direction d;
  d.feed("PORT 1,2", 100, r);
  EXPECT_TRUE(r.lines.empty());
  EXPECT_EQ(d.lineLen, 8u);
  EXPECT_EQ(d.lineStart, 100u);
  d.feed(",3,4,5,6\r\n", 108, r);
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].seq, 100u);
  EXPECT_EQ(d.lineLen, 0u);
  EXPECT_EQ(d.lineStart, 118u);
}

TEST(LineAssembler, OverlongLineInOneSegmentIsSkippedThroughItsLf) {
  const std::string text = std::string(100, 'A') + "\r\nNOOP\r\n";
  const Recorder r = feedCut(text, {});
  EXPECT_EQ(r.bad, (std::vector<ParseError>{ParseError::LineTooLong}));
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].text, "NOOP");
  EXPECT_EQ(r.lines[0].seq, 202u);
}

TEST(LineAssembler, OverlongLineAcrossSegmentsIsReportedOnce) {
  const std::string text = std::string(50, 'A') + std::string(50, 'B') + "\nNOOP\n";
  for (size_t cut : {10u, 50u, 70u}) {
    SCOPED_TRACE(cut);
    const Recorder r = feedCut(text, {cut, cut + 5});
    EXPECT_EQ(r.bad, (std::vector<ParseError>{ParseError::LineTooLong}));
    ASSERT_EQ(r.lines.size(), 1u);
    EXPECT_EQ(r.lines[0], (Recorder::Line{"NOOP", 201}));
  }
}

TEST(LineAssembler, BareCrIsABadLine) {
  const Recorder r = feedCut("NO\rOP\r\nPASV\r\n", {});
  EXPECT_EQ(r.bad, (std::vector<ParseError>{ParseError::BareCr}));
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0], (Recorder::Line{"PASV", 107}));
}

TEST(LineAssembler, CrAtSegmentEndWaitsForLf) {
  const Recorder r = feedCut("NOOP\r\n", {5});
  ASSERT_EQ(r.lines.size(), 1u);
  EXPECT_EQ(r.lines[0].text, "NOOP");
  EXPECT_TRUE(r.bad.empty());
}

TEST(LineAssembler, StopsWhenTheSinkSaysSo) {
  Recorder r;
  r.stopAfter = 1;
  Direction d;
  d.feed("AUTH TLS\r\n\x16\x03\x01garbage\n", 100, r);
  EXPECT_EQ(r.lines.size(), 1u);
  EXPECT_TRUE(r.bad.empty());
}

}  // namespace
}  // namespace ftpalg::test
