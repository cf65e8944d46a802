#include "core/backends/cpu/norm_kernels.h"

#include <cmath>

#include "core/backends/cpu/parallel_for.h"
#include "core/backends/cpu/row_partials.h"

namespace sy::core::cpu {

void rmsnorm_forward(const float* x, const float* w, float* y, float* rstd, int64_t rows, int64_t d,
                     float eps) {
#pragma omp parallel for schedule(static) if (rows * d > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < d; ++i) ss += xr[i] * xr[i];
    const float s = 1.0f / std::sqrt(ss / static_cast<float>(d) + eps);
    rstd[r] = s;
#pragma omp simd
    for (int64_t i = 0; i < d; ++i) yr[i] = xr[i] * s * w[i];
  }
}

void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, float* dx,
                      float* dw, int64_t rows, int64_t d) {
  // With u = dy * w: dx = rstd * u - x * rstd^3 * mean(u * x);  dw = sum_rows dy * x * rstd.
#pragma omp parallel for schedule(static) if (rows * d > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    const float* gr = dy + r * d;
    float* dxr = dx + r * d;
    const float s = rstd[r];
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t i = 0; i < d; ++i) dot += gr[i] * w[i] * xr[i];
    const float c = s * s * s * dot / static_cast<float>(d);
#pragma omp simd
    for (int64_t i = 0; i < d; ++i) dxr[i] = s * gr[i] * w[i] - xr[i] * c;
  }
  reduce_rows_into(rows, d, d, dw, [&](int64_t r, float* acc) {
    const float* xr = x + r * d;
    const float* gr = dy + r * d;
    const float s = rstd[r];
#pragma omp simd
    for (int64_t i = 0; i < d; ++i) acc[i] += gr[i] * xr[i] * s;
  });
}

}  // namespace sy::core::cpu
