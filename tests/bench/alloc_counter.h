// Counts heap allocations made through the global operator new, for benchmarks that check the
// "no allocation on the packet path" rule. Linking alloc_counter.cc replaces the global
// operator new/delete of the whole executable; link it into benchmarks only.
//
//   const ftpalg::bench::AllocCounter allocs;
//   for (auto _ : state) { ... }
//   state.counters["allocs_per_iter"] = allocs.perIteration(state.iterations());
#pragma once

#include <cstdint>

namespace ftpalg::bench {

// Allocations (operator new of any form) since the process started. Thread-safe.
uint64_t allocationCount();

// Snapshot of allocationCount() taken at construction.
class AllocCounter {
 public:
  AllocCounter() : start_(allocationCount()) {}
  [[nodiscard]] uint64_t since() const { return allocationCount() - start_; }
  [[nodiscard]] double perIteration(int64_t iterations) const {
    return iterations > 0 ? static_cast<double>(since()) / static_cast<double>(iterations) : 0.0;
  }

 private:
  uint64_t start_;
};

}  // namespace ftpalg::bench
