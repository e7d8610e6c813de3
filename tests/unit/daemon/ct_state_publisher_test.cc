// Publishing the conntrack label record (src/daemon/ct_state_publisher.cc): offsets published
// only once settled (no live splice), the newest live announcement carried, a write only when
// the record changed, failures counted (labelWriteFailures) and retried at the next change.
#include "daemon/ct_state_publisher.h"

#include <gtest/gtest.h>

#include <vector>

#include "daemon/worker_stats.h"

namespace ftpalg::test {
namespace {

struct FakeWriter : daemon::LabelWriter {
  std::vector<kernel::CtLabelBits>* writes;
  bool* failing;
  FakeWriter(std::vector<kernel::CtLabelBits>* w, bool* f) : writes(w), failing(f) {}
  Status write(const kernel::CtTuple&, const kernel::CtLabelBits& value,
               const kernel::CtLabelBits&) override {
    if (*failing) return Status::error(ENOSPC, "no labels extension");
    writes->push_back(value);
    return {};
  }
};

core::IpAddr v4(uint8_t last) {
  core::IpAddr x;
  x.family = core::Family::V4;
  x.bytes = {198, 18, 1, last};
  return x;
}

struct Publisher : ::testing::Test {
  std::vector<kernel::CtLabelBits> writes;
  bool failing = false;
  daemon::WorkerStats stats;
  daemon::WorkerLog log{0, stats};
  daemon::CtStatePublisher pub{48, std::make_unique<FakeWriter>(&writes, &failing),
                               [](const core::FlowKey& f) {
                                 return kernel::CtTuple{f.client, f.server};
                               },
                               log};
  core::SessionView view;
  Publisher() {
    view.flow = core::FlowKey{{v4(2), 40000}, {v4(9), 21}};
    view.nat.clientInside = view.nat.clientOutside = v4(2);
    view.nat.serverInside = view.nat.serverOutside = v4(9);
  }
  daemon::CtStateRecord last() {
    daemon::CtStateRecord r;
    EXPECT_EQ(daemon::decodeStateRecord(writes.back(), 48, r), daemon::RecordError::None);
    return r;
  }
};

TEST_F(Publisher, OffsetsOnlyOnceSettled) {
  pub.changed(view, 1'000, 5000);
  ASSERT_EQ(writes.size(), 1U);  // the first record of a session is always written
  EXPECT_EQ(last().delta[1], 0);
  view.dir[1].delta = 4;
  view.dir[1].liveSplices = 1;  // the rewritten 227 not acknowledged yet
  pub.changed(view, 2'000, 5000);
  EXPECT_EQ(writes.size(), 1U);  // same record: the settled offsets are still 0
  view.dir[1].liveSplices = 0;
  pub.changed(view, 3'000, 5000);
  ASSERT_EQ(writes.size(), 2U);
  EXPECT_EQ(last().delta[1], 4);
  pub.changed(view, 4'000, 5000);
  EXPECT_EQ(writes.size(), 2U);  // unchanged: no write
  EXPECT_EQ(stats.labelWrites.load(), 2U);
}

TEST_F(Publisher, CarriesTheNewestLiveAnnouncementWhileUnsettled) {
  view.dir[1].delta = 4;
  view.dir[1].liveSplices = 1;
  view.announcementCount = 1;
  core::AnnouncementView& a = view.announcements[0];
  a.dir = core::Dir::S2C;
  a.expect.src = core::Endpoint{v4(2), 0};
  a.expect.dst = a.expect.natTo = core::Endpoint{v4(9), 40043};
  a.untilNs = 30'000'000'000;
  pub.changed(view, 0, 1000);
  ASSERT_EQ(writes.size(), 1U);
  const daemon::CtStateRecord r = last();
  EXPECT_TRUE(r.hasAnnouncement);
  EXPECT_EQ(r.dstPort, 40043);
  EXPECT_EQ(r.expiry, 1030);
  EXPECT_EQ(r.delta[1], 0);  // not settled: the offsets the peer has acknowledged
  a.untilNs = 0;             // expired
  pub.changed(view, 1, 1000);
  ASSERT_EQ(writes.size(), 2U);
  EXPECT_FALSE(last().hasAnnouncement);
}

TEST_F(Publisher, AFailedWriteIsCountedAndRetried) {
  failing = true;
  pub.changed(view, 0, 1000);
  EXPECT_EQ(stats.labelWriteFailures.load(), 1U);
  failing = false;
  pub.changed(view, 1, 1000);
  EXPECT_EQ(writes.size(), 1U);
  EXPECT_EQ(stats.labelWrites.load(), 1U);
}

TEST_F(Publisher, OffsetsBeyondSixteenBitsClearTheRecord) {
  view.dir[0].delta = 40000;
  pub.changed(view, 0, 1000);
  ASSERT_EQ(writes.size(), 1U);
  EXPECT_FALSE(writes.back().any());  // no record rather than a wrong one
}

}  // namespace
}  // namespace ftpalg::test
