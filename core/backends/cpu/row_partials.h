// Deterministic reductions over rows: thread t owns a fixed block of rows and its own partial
// buffer; partials are summed in thread order. Results depend on the thread count, never on timing.
#pragma once

#include <omp.h>

#include <cstdint>
#include <vector>

#include "core/backends/cpu/parallel_for.h"

namespace sy::core::cpu {

// body(row, partial) adds row's contribution into partial[0, width); out[0, width) = sum.
template <typename Body>
void reduce_rows_into(int64_t rows, int64_t width, int64_t work_per_row, float* out, Body body) {
  const int threads = rows * work_per_row > kParallelGrain ? omp_get_max_threads() : 1;
  std::vector<float> partial(static_cast<size_t>(threads) * static_cast<size_t>(width), 0.0f);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int t = 0; t < threads; ++t) {
    float* acc = partial.data() + static_cast<size_t>(t) * static_cast<size_t>(width);
    for (int64_t r = rows * t / threads, end = rows * (t + 1) / threads; r < end; ++r) body(r, acc);
  }
  for (int64_t c = 0; c < width; ++c) out[c] = 0.0f;
  for (int t = 0; t < threads; ++t) {
    const float* acc = partial.data() + static_cast<size_t>(t) * static_cast<size_t>(width);
    for (int64_t c = 0; c < width; ++c) out[c] += acc[c];
  }
}

}  // namespace sy::core::cpu
