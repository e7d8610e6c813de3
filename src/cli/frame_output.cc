#include "cli/frame_output.h"

#include <algorithm>

#include "ftpalg/core/packet.h"

namespace ftpalg::cli {
namespace {

constexpr size_t kMaxIpPacket = 65535;

}  // namespace

FrameOutput::FrameOutput(CaptureWriter* writer)
    : writer_(writer), rebuild_(kMaxLinkHeader + kMaxIpPacket) {}

void FrameOutput::passThrough(const Frame& frame) {
  ++stats_.passedThrough;
  write(frame.tsNs, frame.data, frame.wireLen);
}

void FrameOutput::apply(std::span<const core::PacketAction> actions, const Frame& current) {
  applyAll(actions, &current, current.tsNs);
}

void FrameOutput::applyReleased(std::span<const core::PacketAction> actions, uint64_t tsNs,
                                bool atEnd) {
  const uint64_t droppedBefore = stats_.dropped;
  applyAll(actions, nullptr, tsNs);
  if (atEnd) stats_.droppedAtEnd += stats_.dropped - droppedBefore;
}

void FrameOutput::finish() { stats_.heldAtEnd = heldNow_; }

void FrameOutput::applyAll(std::span<const core::PacketAction> actions, const Frame* current,
                           uint64_t tsNs) {
  bool currentDone = current == nullptr;
  for (const core::PacketAction& action : actions) {
    if (HeldSlot* slot = findHeld(action.handle)) {
      if (action.verdict == core::PacketVerdict::Hold) continue;  // still held
      emit({slot->bytes, slot->ipOffset, slot->ipLength, slot->wireLen}, action, tsNs);
      release(*slot);
      continue;
    }
    if (currentDone || action.handle != current->number) {
      ++stats_.unknownHandle;
      continue;
    }
    currentDone = true;
    const FrameRef frame{current->data, current->link.size(), current->ip.size(), current->wireLen};
    if (action.verdict == core::PacketVerdict::Hold) {
      hold(frame, action.handle);
    } else {
      emit(frame, action, tsNs);
    }
  }
  if (!currentDone) {
    ++stats_.missingVerdict;
    write(current->tsNs, current->data, current->wireLen);
  }
}

FrameOutput::HeldSlot* FrameOutput::findHeld(uint64_t handle) {
  if (heldNow_ == 0) return nullptr;
  for (HeldSlot& slot : held_) {
    if (slot.used && slot.handle == handle) return &slot;
  }
  return nullptr;
}

void FrameOutput::hold(const FrameRef& frame, uint64_t handle) {
  auto free = std::find_if(held_.begin(), held_.end(), [](const HeldSlot& s) { return !s.used; });
  HeldSlot& slot = free != held_.end() ? *free : held_.emplace_back();
  slot.used = true;
  slot.handle = handle;
  slot.bytes.assign(frame.data.begin(), frame.data.end());
  slot.ipOffset = frame.ipOffset;
  slot.ipLength = frame.ipLength;
  slot.wireLen = frame.wireLen;
  ++heldNow_;
  ++stats_.held;
  stats_.heldPeak = std::max<uint64_t>(stats_.heldPeak, heldNow_);
}

void FrameOutput::release(HeldSlot& slot) {
  slot.used = false;
  --heldNow_;
}

void FrameOutput::emit(const FrameRef& frame, const core::PacketAction& action, uint64_t tsNs) {
  switch (action.verdict) {
    case core::PacketVerdict::Accept:
      ++stats_.accepted;
      write(tsNs, frame.data, frame.wireLen);
      return;
    case core::PacketVerdict::Drop:
      ++stats_.dropped;
      return;
    case core::PacketVerdict::Hold:
      return;  // handled by the caller
    case core::PacketVerdict::Rewrite:
      break;
  }
  // Rewrite: link-layer header as captured, then the rebuilt IP packet. Anything that makes
  // the rebuild impossible is counted and the frame written as it was (fail-open).
  const std::span<const uint8_t> ip = frame.data.subspan(frame.ipOffset, frame.ipLength);
  const core::PacketParse parsed = core::parsePacket(ip);
  const bool sackFits = action.sackCount <= core::kMaxSackBlocks &&
                        parsed.error == core::PacketError::None &&
                        action.sackCount == parsed.view.sackCount;
  size_t length = 0;
  if (frame.ipLength != 0 && frame.ipOffset <= kMaxLinkHeader && sackFits) {
    length = core::rebuildPacket(ip, parsed.view, action.seq, action.ack,
                                 std::span(action.sack).first(action.sackCount), action.payload,
                                 std::span(rebuild_).subspan(frame.ipOffset));
  }
  if (length == 0) {
    ++stats_.rewriteFailed;
    write(tsNs, frame.data, frame.wireLen);
    return;
  }
  ++stats_.rewritten;
  std::copy_n(frame.data.begin(), frame.ipOffset, rebuild_.begin());
  const size_t total = frame.ipOffset + length;
  write(tsNs, std::span(rebuild_).first(total), static_cast<uint32_t>(total));
}

void FrameOutput::write(uint64_t tsNs, std::span<const uint8_t> bytes, uint32_t wireLen) {
  if (writer_ == nullptr) return;
  writer_->write(tsNs, bytes, wireLen);
  ++stats_.written;
}

}  // namespace ftpalg::cli
