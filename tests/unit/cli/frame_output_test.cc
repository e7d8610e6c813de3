#include "cli/frame_output.h"

#include <gtest/gtest.h>
#include <pcap/dlt.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/capture_writer.h"
#include "cli/link_layer.h"
#include "ftpalg/core/packet.h"
#include "tests/support/packet_builder.h"
#include "tests/unit/cli/capture_test_util.h"

namespace ftpalg::test {

using namespace ftpalg::cli;  // NOLINT(google-build-using-namespace): the unit under test
namespace {

using core::PacketAction;
using core::PacketVerdict;

const std::vector<uint8_t> kEther{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};

std::vector<uint8_t> frameBytes(std::string_view payload, uint32_t seq, size_t padding = 0) {
  return concat({kEther,
                 PacketBuilder()
                     .v4(endpoint("198.18.0.2:45000"), endpoint("198.19.0.2:21"))
                     .seq(seq)
                     .ack(7000)
                     .payload(payload)
                     .build(),
                 std::vector<uint8_t>(padding, 0)});
}

// A Frame over `bytes` as CaptureReader would yield it.
Frame frameOf(const std::vector<uint8_t>& bytes, uint64_t number, uint64_t tsNs) {
  Frame f;
  f.number = number;
  f.tsNs = tsNs;
  f.wireLen = static_cast<uint32_t>(bytes.size());
  f.data = bytes;
  const IpLocation loc = locateIp(LinkType::Ethernet, bytes);
  f.link = f.data.first(loc.ipOffset);
  f.ip = f.data.subspan(loc.ipOffset, loc.ipLength);
  return f;
}

PacketAction action(uint64_t handle, PacketVerdict verdict) {
  PacketAction a;
  a.handle = handle;
  a.verdict = verdict;
  return a;
}

// Writes through a FrameOutput into a temporary capture and reads it back.
class FrameOutputTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(writer_.open(path_, DLT_EN10MB).ok()); }

  std::vector<ReadFrame> output() {
    EXPECT_TRUE(writer_.close().ok());
    CaptureReader reader;
    return readAll(reader, path_);
  }

  // One action for the frame numbered `handle` (its handle), arriving at tsNs.
  void applyOne(uint64_t handle, PacketVerdict verdict, const std::vector<uint8_t>& bytes,
                uint64_t tsNs) {
    const PacketAction a = action(handle, verdict);
    out_.apply({&a, 1}, frameOf(bytes, handle, tsNs));
  }

  TempDir dir_;
  std::string path_ = dir_.file("out.pcap");
  CaptureWriter writer_;
  FrameOutput out_{&writer_};
};

TEST_F(FrameOutputTest, AcceptWritesTheFrameUnchanged) {
  const auto bytes = frameBytes("USER anonymous\r\n", 100, 6);
  const Frame f = frameOf(bytes, 1, 1000);
  const PacketAction a = action(1, PacketVerdict::Accept);
  out_.apply({&a, 1}, f);
  const auto frames = output();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, bytes);  // padding included
  EXPECT_EQ(frames[0].tsNs, 1000u);
  EXPECT_EQ(out_.stats().accepted, 1u);
  EXPECT_EQ(out_.stats().written, 1u);
}

TEST_F(FrameOutputTest, PassThrough) {
  const std::vector<uint8_t> arp =
      concat({{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x06}, std::vector<uint8_t>(28, 1)});
  out_.passThrough(frameOf(arp, 1, 5));
  const auto frames = output();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, arp);
  EXPECT_EQ(out_.stats().passedThrough, 1u);
}

TEST_F(FrameOutputTest, RewriteKeepsLinkHeaderAndFixesChecksums) {
  const auto bytes = frameBytes("PORT 198,18,0,2,195,80\r\n", 100, 4);
  const Frame f = frameOf(bytes, 1, 1000);
  const std::string_view text = "PORT 198,51,100,7,195,80\r\n";
  PacketAction a = action(1, PacketVerdict::Rewrite);
  a.seq = 100;
  a.ack = 6990;
  a.payload = {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
  out_.apply({&a, 1}, f);
  const auto frames = output();
  ASSERT_EQ(frames.size(), 1u);
  const ReadFrame& r = frames[0];
  EXPECT_EQ(r.link, kEther);
  EXPECT_EQ(r.data.size(), r.wireLen);
  EXPECT_EQ(r.data.size(), kEther.size() + 20 + 20 + text.size());  // padding gone
  const core::PacketParse p = core::parsePacket(r.ip);
  ASSERT_EQ(p.error, core::PacketError::None);
  EXPECT_EQ(
      std::string_view(reinterpret_cast<const char*>(p.view.payload.data()), p.view.payload.size()),
      text);
  EXPECT_EQ(p.view.seq, 100u);
  EXPECT_EQ(p.view.ack, 6990u);
  EXPECT_TRUE(core::tcpChecksumValid(r.ip, p.view));
  EXPECT_EQ(out_.stats().rewritten, 1u);
}

TEST_F(FrameOutputTest, HeldFrameIsReleasedAtTheReleasingFramesTime) {
  const auto b1 = frameBytes("PO", 100);
  const auto b2 = frameBytes("RT 1,2,3,4,5,6\r\n", 102);
  applyOne(1, PacketVerdict::Hold, b1, 1000);
  EXPECT_EQ(out_.heldNow(), 1u);
  // The engine releases frame 1 before accepting frame 2.
  const PacketAction release[] = {action(1, PacketVerdict::Accept),
                                  action(2, PacketVerdict::Accept)};
  out_.apply(release, frameOf(b2, 2, 2000));
  EXPECT_EQ(out_.heldNow(), 0u);
  const auto frames = output();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].data, b1);
  EXPECT_EQ(frames[0].tsNs, 2000u);
  EXPECT_EQ(frames[1].data, b2);
  EXPECT_EQ(frames[1].tsNs, 2000u);
  EXPECT_EQ(out_.stats().held, 1u);
  EXPECT_EQ(out_.stats().heldPeak, 1u);
}

TEST_F(FrameOutputTest, ReleaseOrderFollowsTheActions) {
  const auto b1 = frameBytes("A", 100);
  const auto b2 = frameBytes("B", 101);
  const auto b3 = frameBytes("C", 102);
  applyOne(1, PacketVerdict::Hold, b1, 10);
  applyOne(2, PacketVerdict::Hold, b2, 20);
  const PacketAction release[] = {action(3, PacketVerdict::Accept),
                                  action(2, PacketVerdict::Accept), action(1, PacketVerdict::Drop)};
  out_.apply(release, frameOf(b3, 3, 30));
  const auto frames = output();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].data, b3);
  EXPECT_EQ(frames[1].data, b2);
  EXPECT_EQ(frames[1].tsNs, 30u);
  EXPECT_EQ(out_.stats().dropped, 1u);
  EXPECT_EQ(out_.stats().heldPeak, 2u);
}

TEST_F(FrameOutputTest, HeldFrameCanBeRewritten) {
  const auto b1 = frameBytes("PORT 198,18,0,2,195,80\r\n", 100);
  const PacketAction hold = action(1, PacketVerdict::Hold);
  std::vector<uint8_t> scratch = b1;  // the reader's buffer is reused after next()
  out_.apply({&hold, 1}, frameOf(scratch, 1, 10));
  std::fill(scratch.begin(), scratch.end(), 0xee);
  const std::string_view text = "PORT 198,51,100,7,195,80\r\n";
  PacketAction a = action(1, PacketVerdict::Rewrite);
  a.seq = 100;
  a.ack = 7000;
  a.payload = {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
  out_.applyReleased({&a, 1}, 50);
  const auto frames = output();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].tsNs, 50u);
  const core::PacketParse p = core::parsePacket(frames[0].ip);
  ASSERT_EQ(p.error, core::PacketError::None);
  EXPECT_EQ(p.view.payload.size(), text.size());
  EXPECT_TRUE(core::tcpChecksumValid(frames[0].ip, p.view));
}

TEST_F(FrameOutputTest, DropWritesNothing) {
  const auto bytes = frameBytes("X", 1);
  applyOne(1, PacketVerdict::Drop, bytes, 10);
  EXPECT_TRUE(output().empty());
  EXPECT_EQ(out_.stats().dropped, 1u);
}

TEST_F(FrameOutputTest, MissingVerdictIsCountedAndFailsOpen) {
  const auto bytes = frameBytes("X", 1);
  out_.apply({}, frameOf(bytes, 1, 10));
  EXPECT_EQ(output().size(), 1u);
  EXPECT_EQ(out_.stats().missingVerdict, 1u);
}

TEST_F(FrameOutputTest, UnknownHandleIsCounted) {
  const auto bytes = frameBytes("X", 1);
  const PacketAction actions[] = {action(99, PacketVerdict::Accept),
                                  action(1, PacketVerdict::Accept),
                                  action(1, PacketVerdict::Accept)};
  out_.apply(actions, frameOf(bytes, 1, 10));
  EXPECT_EQ(output().size(), 1u);
  EXPECT_EQ(out_.stats().unknownHandle, 2u);
}

TEST_F(FrameOutputTest, ImpossibleRewriteIsCountedAndWritesTheOriginal) {
  const auto bytes = frameBytes("X", 1);
  PacketAction a = action(1, PacketVerdict::Rewrite);
  a.sackCount = 2;  // the packet has no SACK blocks
  out_.apply({&a, 1}, frameOf(bytes, 1, 10));
  const auto frames = output();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].data, bytes);
  EXPECT_EQ(out_.stats().rewriteFailed, 1u);
}

TEST_F(FrameOutputTest, EndOfInput) {
  for (uint64_t n = 1; n <= 3; ++n) {
    const auto bytes = frameBytes("Y", static_cast<uint32_t>(n));
    applyOne(n, PacketVerdict::Hold, bytes, n);
  }
  const PacketAction end[] = {action(1, PacketVerdict::Drop), action(2, PacketVerdict::Drop)};
  out_.applyReleased(end, 3, /*atEnd=*/true);
  out_.finish();
  EXPECT_TRUE(output().empty());
  EXPECT_EQ(out_.stats().droppedAtEnd, 2u);
  EXPECT_EQ(out_.stats().dropped, 2u);
  EXPECT_EQ(out_.stats().heldAtEnd, 1u);
}

TEST(FrameOutput, WithoutWriterOnlyCounts) {
  FrameOutput out(nullptr);
  const auto bytes = frameBytes("Z", 1);
  const PacketAction a = action(1, PacketVerdict::Accept);
  out.apply({&a, 1}, frameOf(bytes, 1, 10));
  EXPECT_EQ(out.stats().accepted, 1u);
  EXPECT_EQ(out.stats().written, 0u);
}

}  // namespace
}  // namespace ftpalg::test
