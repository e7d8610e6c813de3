#include "daemon/ct_state_publisher.h"

#include <time.h>

#include <algorithm>
#include <utility>

#include "daemon/text.h"

namespace ftpalg::daemon {
namespace {

class KernelLabelWriter final : public LabelWriter {
 public:
  Status write(const kernel::CtTuple& orig, const kernel::CtLabelBits& value,
               const kernel::CtLabelBits& mask) override {
    return labels_.write(orig, value, mask);
  }

 private:
  kernel::CtLabels labels_;
};

}  // namespace

std::unique_ptr<LabelWriter> kernelLabelWriter() { return std::make_unique<KernelLabelWriter>(); }

CtStateRecord recordOf(const core::SessionView& view, const CtStateRecord& settled, uint64_t nowNs,
                       uint64_t realNowS) {
  CtStateRecord r;
  r.delta = settled.delta;
  if (view.dir[0].liveSplices == 0 && view.dir[1].liveSplices == 0) {
    for (size_t d = 0; d < 2; ++d) r.delta[d] = static_cast<int32_t>(view.dir[d].delta);
  }
  // The newest outstanding announcement whose pinhole the entry's tuples can describe.
  const size_t listed = std::min(view.announcementCount, core::SessionView::kMaxAnnouncements);
  for (size_t i = 0; i < listed; ++i) {
    const core::AnnouncementView& a = view.announcements[i];
    if (a.untilNs <= nowNs || !carryAnnouncement(a.expect, a.dir, view.nat, r)) continue;
    r.expiry = expiryOf(realNowS, a.untilNs - nowNs);
    break;
  }
  return r;
}

CtStatePublisher::CtStatePublisher(unsigned firstBit, std::unique_ptr<LabelWriter> writer,
                                   TupleOf tupleOf, WorkerLog& log)
    : firstBit_(firstBit),
      mask_(stateRecordMask(firstBit)),
      writer_(std::move(writer)),
      tupleOf_(std::move(tupleOf)),
      log_(log),
      slots_(kSlots) {}

CtStatePublisher::Slot& CtStatePublisher::slotOf(const core::FlowKey& flow) {
  uint64_t h = 1469598103934665603ULL;
  for (const core::Endpoint* e : {&flow.client, &flow.server}) {
    for (uint8_t b : e->addr.bytes) h = (h ^ b) * 1099511628211ULL;
    h = (h ^ e->port) * 1099511628211ULL;
  }
  return slots_[static_cast<size_t>(h % kSlots)];
}

void CtStatePublisher::changed(const core::SessionView& view, uint64_t nowNs, uint64_t realNowS) {
  Slot& s = slotOf(view.flow);
  // A new slot has written nothing this process knows of: its first record is always written
  // (version 3 under the whole mask matches no record).
  if (!s.used || !(s.flow == view.flow)) s = Slot{view.flow, true, {}, mask_};
  const CtStateRecord r = recordOf(view, s.settled, nowNs, realNowS);
  kernel::CtLabelBits bits;
  if (!encodeStateRecord(r, firstBit_, bits)) {
    // Offsets beyond 16 bits: an empty record, never a wrong one.
    bits = {};
  }
  if (view.dir[0].liveSplices == 0 && view.dir[1].liveSplices == 0) s.settled.delta = r.delta;
  if (bits == s.written) return;
  if (Status st = writer_->write(tupleOf_(view.flow), bits, mask_); !st.ok()) {
    (void)log_.fail(Failure::LabelWriteFailed, nowNs, "conntrack labels of {}: {}",
                    flowText(view.flow), st.message());
    return;
  }
  s.written = bits;
  bump(log_.stats().labelWrites);
}

void CtStatePublisher::apply(const core::Actions& actions, const core::Engine& engine,
                             uint64_t nowNs) {
  if (actions.stateCount == 0) return;
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const auto realNowS = static_cast<uint64_t>(ts.tv_sec);
  core::SessionView view;
  for (size_t i = 0; i < actions.stateCount; ++i) {
    const core::FlowKey& flow = actions.states[i].flow;
    if (engine.viewSession(flow, nowNs, view)) {
      changed(view, nowNs, realNowS);
    } else {
      ended(flow);
    }
  }
}

void CtStatePublisher::ended(const core::FlowKey& flow) {
  Slot& s = slotOf(flow);
  if (s.used && s.flow == flow) s = Slot{};
}

}  // namespace ftpalg::daemon
