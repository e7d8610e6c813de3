// Test helper: a copy of some bytes placed so that the last byte sits right before a PROT_NONE
// page. A parser that reads even one byte past the end of its input faults (SIGSEGV) instead of
// silently reading whatever follows in memory.
//
// Ownership: the buffer owns its mapping; view()/bytes() stay valid until it is destroyed.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace ftpalg::test {

// Bytes ending exactly at a guard page. Not copyable; movable.
class GuardBuffer {
 public:
  explicit GuardBuffer(std::string_view bytes);
  ~GuardBuffer();
  GuardBuffer(GuardBuffer&& other) noexcept;
  GuardBuffer& operator=(GuardBuffer&& other) noexcept;
  GuardBuffer(const GuardBuffer&) = delete;
  GuardBuffer& operator=(const GuardBuffer&) = delete;

  [[nodiscard]] std::string_view view() const { return {data_, size_}; }
  [[nodiscard]] std::span<const std::byte> bytes() const {
    return std::as_bytes(std::span<const char>(data_, size_));
  }
  // Writable access, for code under test that edits in place (e.g. NAT rewrites).
  [[nodiscard]] std::span<char> mutableChars() { return {data_, size_}; }
  [[nodiscard]] size_t size() const { return size_; }

 private:
  void release();

  char* map_ = nullptr;  // start of the mapping (data pages + guard page)
  size_t mapSize_ = 0;
  char* data_ = nullptr;  // first byte of the copy; data_ + size_ is the guard page
  size_t size_ = 0;
};

}  // namespace ftpalg::test
