// When a loop is worth running on an OpenMP team. Each kernel computes its own work figure
// (elements touched, multiply-adds) and puts `if (worth_threads(work))` on its parallel pragma.
#pragma once
#include <cstdint>

namespace pg::kernels {

// Starting (waking) an OpenMP team costs more than a loop this small saves, so below it the
// calling thread runs the loop alone (measured on the 2-core machine: ~32 K floats of memory-bound
// work, or as many multiply-adds). GEMM picks its thread count by its own rule (see gemm.cpp).
constexpr int64_t kMinWorkForThreads = int64_t{1} << 15;

inline bool worth_threads(int64_t work) {
  return work >= kMinWorkForThreads;
}

}  // namespace pg::kernels
