#include "dir_buffers.h"

namespace ftpalg::core {

DirBufferPool::DirBufferPool(size_t count, size_t maxInFlight, size_t maxLine)
    : maxInFlight_(maxInFlight),
      maxLine_(maxLine),
      bufs_(count),
      flight_(count * maxInFlight),
      lines_(count * (maxLine + 2)) {
  for (size_t i = 0; i < bufs_.size(); ++i) {
    bufs_[i].nextFree = i + 1 < bufs_.size() ? static_cast<uint32_t>(i + 1) : kNone;
  }
  freeBuf_ = bufs_.empty() ? kNone : 0;
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
  bufs_[d.buf].owner = nullptr;
  bufs_[d.buf].nextFree = freeBuf_;
  freeBuf_ = d.buf;
  d.buf = kNone;
}

size_t DirBufferPool::available() const {
  size_t n = 0;
  for (uint32_t i = freeBuf_; i != kNone; i = bufs_[i].nextFree) ++n;
  return n;
}

}  // namespace ftpalg::core
