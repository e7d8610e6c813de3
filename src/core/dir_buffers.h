// The pooled per-direction storage: only directions with bytes in flight, a partial line, held
// packets or live splices own a buffer, so an idle session costs only its Session slot. All of
// it is reserved once, in the constructor; a buffer is constructed (its pages written) when it is
// first lent, so the memory touched follows the most buffers ever lent at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "rewrite_map.h"
#include "session.h"

namespace ftpalg::core {

// The bookkeeping of one borrowed buffer; its bytes are the pool's flight() and line().
struct DirBuffer {
  RewriteMap map;
  uint32_t flightStart = 0;  // original seq of flight[0]
  uint32_t flightLen = 0;
  uint32_t lineLen = 0;
  uint32_t heldCount = 0;
  uint32_t nextFree = kNone;
  Session* owner = nullptr;  // the session whose direction `ownerDir` holds it; null when free
  Dir ownerDir = Dir::C2S;
  uint64_t holdSinceNs = 0;  // when the line being held started to be held
  std::array<HeldSeg, kMaxHeld> held{};
};

// A free list of DirBuffers with their flight and line bytes. DirState::buf names the buffer a
// direction holds (kNone: none, its splice delta then lives in DirState::baseDelta).
class DirBufferPool {
 public:
  DirBufferPool(size_t count, size_t maxInFlight, size_t maxLine);

  // The direction's buffer, or nullptr when it has none.
  DirBuffer* get(const DirState& d) { return d.buf == kNone ? nullptr : &at(d.buf); }
  // The direction's buffer, borrowing a fresh one (flight starting at d.next) when it has
  // none; nullptr when the pool is exhausted.
  DirBuffer* acquire(DirState& d);
  // Records which session and direction hold the direction's buffer (see forEachOwned).
  void own(const DirState& d, Session& s, Dir dir) {
    if (d.buf == kNone) return;
    at(d.buf).owner = &s;
    at(d.buf).ownerDir = dir;
  }
  // Returns the buffer when nothing in it is needed any more (keeps the splice delta).
  void releaseIfIdle(DirState& d) {
    DirBuffer* b = get(d);
    if (b == nullptr || b->lineLen != 0 || b->heldCount != 0 || d.holding || b->flightLen != 0 ||
        b->map.size() != 0) {
      return;
    }
    d.baseDelta = b->map.baseDelta();
    pushFree(d);
  }
  // Returns the buffer unconditionally (session end); held packets are forgotten.
  void free(DirState& d);

  // Unacknowledged original bytes of buffer `b` (maxInFlight of them).
  uint8_t* flight(uint32_t b) { return flight_.get() + static_cast<size_t>(b) * maxInFlight_; }
  // Partial line bytes of buffer `b` (lineCapacity() of them).
  char* line(uint32_t b) { return lines_.get() + static_cast<size_t>(b) * lineCapacity(); }
  [[nodiscard]] size_t lineCapacity() const { return maxLine_ + 2; }
  [[nodiscard]] size_t maxInFlight() const { return maxInFlight_; }
  [[nodiscard]] size_t available() const;
  // Buffer `i` of count(), lent out or not (DirBuffer::owner says).
  DirBuffer& at(size_t i) { return reinterpret_cast<DirBuffer*>(bufs_.get())[i]; }
  // The buffers constructed so far (all of them once the pool has been exhausted).
  [[nodiscard]] size_t count() const { return constructed_; }
  [[nodiscard]] size_t capacity() const { return capacity_; }
  // Calls f(DirBuffer&) for every buffer lent out whose owner has been recorded.
  template <typename F>
  void forEachOwned(F&& f) {
    for (size_t i = 0; i < constructed_; ++i) {
      if (at(i).owner != nullptr) f(at(i));
    }
  }

 private:
  void pushFree(DirState& d);
  // Constructs the next never-used buffer onto the free list (false: all are constructed).
  bool construct();

  size_t maxInFlight_;
  size_t maxLine_;
  size_t capacity_;
  size_t constructed_ = 0;
  // Uninitialised reservations (default-initialised: no page is written before use).
  std::unique_ptr<std::byte[]> bufs_;
  std::unique_ptr<uint8_t[]> flight_;
  std::unique_ptr<char[]> lines_;
  uint32_t freeBuf_ = kNone;
};

inline DirBuffer* DirBufferPool::acquire(DirState& d) {
  if (d.buf != kNone) return &at(d.buf);
  if (freeBuf_ == kNone && !construct()) return nullptr;
  d.buf = freeBuf_;
  DirBuffer& b = at(d.buf);
  freeBuf_ = b.nextFree;
  b.map.clear();
  b.map.setBaseDelta(d.baseDelta);
  b.flightStart = d.next;
  b.flightLen = 0;
  b.lineLen = 0;
  b.heldCount = 0;
  b.owner = nullptr;
  return &b;
}

}  // namespace ftpalg::core
