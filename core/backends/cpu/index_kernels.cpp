#include "core/backends/cpu/index_kernels.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "core/backends/cpu/parallel_for.h"

namespace sy::core::cpu {

void gather_rows(const float* x, const int32_t* idx, float* out, int64_t m, int64_t d) {
#pragma omp parallel for schedule(static) if (m * d > kParallelGrain)
  for (int64_t i = 0; i < m; ++i) {
    std::memcpy(out + i * d, x + static_cast<int64_t>(idx[i]) * d,
                static_cast<size_t>(d) * sizeof(float));
  }
}

void scatter_add_rows(const float* src, const int32_t* idx, float* out, int64_t m, int64_t d) {
  // Column blocks of at least 16 floats (one cache line) per thread.
  const int64_t max_threads = m * d > kParallelGrain ? omp_get_max_threads() : 1;
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(max_threads, d / 16));
#pragma omp parallel for schedule(static) num_threads(static_cast <int>(threads))
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t c0 = d * t / threads, c1 = d * (t + 1) / threads;
    for (int64_t i = 0; i < m; ++i) {
      const float* s = src + i * d;
      float* o = out + static_cast<int64_t>(idx[i]) * d;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) o[c] += s[c];
    }
  }
}

void topk(const float* x, float* values, int32_t* indices, int64_t rows, int64_t n, int64_t k) {
#pragma omp parallel if (rows * n > kParallelGrain)
  {
    std::vector<int32_t> order(static_cast<size_t>(n));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * n;
      std::iota(order.begin(), order.end(), 0);
      // NaN ranks below everything, so the order stays a strict weak ordering.
      auto key = [xr](int32_t i) { return std::isnan(xr[i]) ? -INFINITY : xr[i]; };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
        const float ka = key(a), kb = key(b);
        return ka > kb || (ka == kb && a < b);
      });
      for (int64_t j = 0; j < k; ++j) {
        indices[r * k + j] = order[static_cast<size_t>(j)];
        values[r * k + j] = xr[order[static_cast<size_t>(j)]];
      }
    }
  }
}

void topk_backward(const float* g, const int32_t* indices, float* out, int64_t rows, int64_t n,
                   int64_t k) {
#pragma omp parallel for schedule(static) if (rows * n > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * n;
    for (int64_t i = 0; i < n; ++i) o[i] = 0.0f;
    for (int64_t j = 0; j < k; ++j) o[indices[r * k + j]] += g[r * k + j];
  }
}

}  // namespace sy::core::cpu
