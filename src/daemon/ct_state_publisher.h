// conntrack_state = "labels" (docs/daemon.md, "Conntrack state labels"): keeps each stored
// session's record (ct_state_record.h) in its control connection's conntrack labels. Called with
// the session's view whenever the engine reports the session changed (Actions::states: bytes, a
// FIN, the last live splice acknowledged, it stopped needing storage), before the segment's
// verdicts leave; one ctnetlink UPDATE only when the record differs from the one last written.
// The offsets are those of a settled session (no live splice): while rewritten bytes are
// unacknowledged the previous settled offsets stay, so a takeover then is not exact (see docs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "daemon/ct_state_record.h"
#include "daemon/worker_log.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/core/session_view.h"
#include "ftpalg/kernel/ct_labels.h"

namespace ftpalg::daemon {

// Writes labels (kernel::CtLabels in the daemon, a fake in tests).
class LabelWriter {
 public:
  virtual ~LabelWriter() = default;
  virtual Status write(const kernel::CtTuple& orig, const kernel::CtLabelBits& value,
                       const kernel::CtLabelBits& mask) = 0;
};
std::unique_ptr<LabelWriter> kernelLabelWriter();

// The record `view` stands for at CLOCK_MONOTONIC `nowNs` / CLOCK_REALTIME `realNowS`, on top of
// `settled` (the offsets last settled; replaced when the view has no live splice).
CtStateRecord recordOf(const core::SessionView& view, const CtStateRecord& settled, uint64_t nowNs,
                       uint64_t realNowS);

// One per queue worker; fixed table of kSlots sessions (a collision forgets the older one,
// which costs at most one more write).
class CtStatePublisher {
 public:
  static constexpr size_t kSlots = 4096;
  // The original tuple of a control connection's entry (the resolver knows it).
  using TupleOf = std::function<kernel::CtTuple(const core::FlowKey&)>;

  CtStatePublisher(unsigned firstBit, std::unique_ptr<LabelWriter> writer, TupleOf tupleOf,
                   WorkerLog& log);
  // The session `view` changed: its record is written when it differs from the last one.
  void changed(const core::SessionView& view, uint64_t nowNs, uint64_t realNowS);
  // The session ended: its slot is freed (the entry goes with the connection).
  void ended(const core::FlowKey& flow);
  // Every session `actions` reports changed, as `engine` has it now (CLOCK_REALTIME read here).
  void apply(const core::Actions& actions, const core::Engine& engine, uint64_t nowNs);

 private:
  struct Slot {
    core::FlowKey flow;
    bool used = false;
    CtStateRecord settled;  // offsets last settled
    kernel::CtLabelBits written;
  };
  Slot& slotOf(const core::FlowKey& flow);

  unsigned firstBit_;
  kernel::CtLabelBits mask_;
  std::unique_ptr<LabelWriter> writer_;
  TupleOf tupleOf_;
  WorkerLog& log_;
  std::vector<Slot> slots_;
};

}  // namespace ftpalg::daemon
