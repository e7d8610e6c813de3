#include "tests/support/guard_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>

namespace ftpalg::test {

GuardBuffer::GuardBuffer(std::string_view bytes) : size_(bytes.size()) {
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t dataPages = (bytes.size() + page - 1) / page;
  mapSize_ = (dataPages + 1) * page;
  void* m = mmap(nullptr, mapSize_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) std::abort();  // test environment broken; nothing sensible to do
  map_ = static_cast<char*>(m);
  char* guard = map_ + dataPages * page;
  if (mprotect(guard, page, PROT_NONE) != 0) std::abort();
  data_ = guard - bytes.size();
  if (!bytes.empty()) std::memcpy(data_, bytes.data(), bytes.size());
}

GuardBuffer::~GuardBuffer() { release(); }

GuardBuffer::GuardBuffer(GuardBuffer&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)),
      mapSize_(std::exchange(other.mapSize_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

GuardBuffer& GuardBuffer::operator=(GuardBuffer&& other) noexcept {
  if (this != &other) {
    release();
    map_ = std::exchange(other.map_, nullptr);
    mapSize_ = std::exchange(other.mapSize_, 0);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void GuardBuffer::release() {
  if (map_ != nullptr) munmap(map_, mapSize_);
  map_ = nullptr;
}

}  // namespace ftpalg::test
