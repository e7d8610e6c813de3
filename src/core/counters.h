// The engine's counters: one slot per Counter, incremented by every part of the core.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "ftpalg/core/engine.h"

namespace ftpalg::core {

// Counts since construction; shared by the engine's parts by reference.
class Counters {
 public:
  void add(Counter c, uint64_t n = 1) { values_[static_cast<size_t>(c)] += n; }
  [[nodiscard]] uint64_t get(Counter c) const { return values_[static_cast<size_t>(c)]; }

 private:
  std::array<uint64_t, static_cast<size_t>(Counter::Count)> values_{};
};

}  // namespace ftpalg::core
