#include "dir_buffers.h"

#include <new>
#include <type_traits>

namespace ftpalg::core {

// Buffers are never destroyed one by one (a returned buffer is reused as it is).
static_assert(std::is_trivially_destructible_v<DirBuffer>);
static_assert(alignof(DirBuffer) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

DirBufferPool::DirBufferPool(size_t count, size_t maxInFlight, size_t maxLine)
    : maxInFlight_(maxInFlight),
      maxLine_(maxLine),
      capacity_(count),
      bufs_(new std::byte[count * sizeof(DirBuffer)]),
      flight_(new uint8_t[count * maxInFlight]),
      lines_(new char[count * (maxLine + 2)]) {}

bool DirBufferPool::construct() {
  if (constructed_ == capacity_) return false;
  DirBuffer* b = new (&at(constructed_)) DirBuffer{};
  b->nextFree = freeBuf_;
  freeBuf_ = static_cast<uint32_t>(constructed_++);
  return true;
}

void DirBufferPool::free(DirState& d) {
  DirBuffer* b = get(d);
  if (b == nullptr) return;
  b->heldCount = 0;
  b->lineLen = 0;
  b->flightLen = 0;
  b->map.clear();
  pushFree(d);
}

void DirBufferPool::pushFree(DirState& d) {
  at(d.buf).owner = nullptr;
  at(d.buf).nextFree = freeBuf_;
  freeBuf_ = d.buf;
  d.buf = kNone;
}

size_t DirBufferPool::available() const {
  size_t n = capacity_ - constructed_;
  for (uint32_t i = freeBuf_; i != kNone;
       i = reinterpret_cast<const DirBuffer*>(bufs_.get())[i].nextFree)
    ++n;
  return n;
}

}  // namespace ftpalg::core
