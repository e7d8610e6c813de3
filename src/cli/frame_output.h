// FrameOutput: applies the engine's packet verdicts to captured frames and writes the result.
//
// The engine answers every segment with PacketActions keyed by handle (here: the frame number).
// Accept writes the frame unchanged, Rewrite writes the original link-layer header followed by
// the rebuilt IP packet, Drop writes nothing, Hold keeps a copy until a later action with the
// same handle releases it. Frames released while processing frame N carry N's timestamp, so the
// output stays monotonic. Buffers are reused: no allocation per frame in steady state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cli/capture_reader.h"
#include "cli/capture_writer.h"
#include "ftpalg/core/engine.h"
#include "ftpalg/report/replay_summary.h"

namespace ftpalg::cli {

// What FrameOutput did, for the summary.
using report::OutputStats;

class FrameOutput {
 public:
  // Longest link-layer header a rewritten frame may carry (Ethernet with 8 VLAN tags fits).
  static constexpr size_t kMaxLinkHeader = 64;

  // `writer` may be null (no output capture): verdicts are still applied and counted.
  explicit FrameOutput(CaptureWriter* writer);

  // Writes a frame that was not given to the engine, unchanged, at its own timestamp.
  void passThrough(const Frame& frame);

  // Applies the actions of the engine call made for `current`, in their order. A missing
  // verdict for `current` is counted and the frame written unchanged (fail-open: replay shows
  // the traffic rather than hiding it).
  void apply(std::span<const core::PacketAction> actions, const Frame& current);

  // Applies actions that concern held frames only (from expire()) at time tsNs. atEnd: the
  // final expire at the end of input (its drops are counted as droppedAtEnd).
  void applyReleased(std::span<const core::PacketAction> actions, uint64_t tsNs,
                     bool atEnd = false);

  // End of input: counts the frames still held (never written).
  void finish();

  [[nodiscard]] const OutputStats& stats() const { return stats_; }
  [[nodiscard]] size_t heldNow() const { return heldNow_; }

 private:
  // A frame to emit: the whole captured frame plus where its IP packet is.
  struct FrameRef {
    std::span<const uint8_t> data;
    size_t ipOffset = 0;
    size_t ipLength = 0;
    uint32_t wireLen = 0;
  };
  // A held frame's private copy. Slots and their buffers are reused.
  struct HeldSlot {
    bool used = false;
    uint64_t handle = 0;
    std::vector<uint8_t> bytes;
    size_t ipOffset = 0;
    size_t ipLength = 0;
    uint32_t wireLen = 0;
  };

  HeldSlot* findHeld(uint64_t handle);
  void hold(const FrameRef& frame, uint64_t handle);
  void release(HeldSlot& slot);
  // Applies a non-Hold verdict to `frame` at time tsNs.
  void emit(const FrameRef& frame, const core::PacketAction& action, uint64_t tsNs);
  void write(uint64_t tsNs, std::span<const uint8_t> bytes, uint32_t wireLen);
  void applyAll(std::span<const core::PacketAction> actions, const Frame* current, uint64_t tsNs);

  CaptureWriter* writer_;
  std::vector<HeldSlot> held_;
  size_t heldNow_ = 0;
  std::vector<uint8_t> rebuild_;  // kMaxLinkHeader + 65535 bytes, allocated once
  OutputStats stats_;
};

}  // namespace ftpalg::cli
