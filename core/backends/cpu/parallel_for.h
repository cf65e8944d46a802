// OpenMP helpers for CPU kernels: parallelise only when the work is worth a fork/join.
#pragma once

#include <cstdint>

namespace sy::core::cpu {

// Loops shorter than this many element operations run on the calling thread.
constexpr int64_t kParallelGrain = 1 << 15;

}  // namespace sy::core::cpu
