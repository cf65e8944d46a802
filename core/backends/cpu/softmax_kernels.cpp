#include "core/backends/cpu/softmax_kernels.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/backends/cpu/parallel_for.h"

namespace sy::core::cpu {

namespace {

inline float row_max(const float* x, int64_t n) {
  float m = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// log(sum(exp(x))) computed as max + log(sum(exp(x - max))).
inline float row_logsumexp(const float* x, int64_t n) {
  const float m = row_max(x, n);
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return m + std::log(s);
}

}  // namespace

void softmax_forward(const float* x, float* y, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float m = row_max(xr, n);
    float s = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      yr[i] = std::exp(xr[i] - m);
      s += yr[i];
    }
    const float inv = 1.0f / s;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) yr[i] *= inv;
  }
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t n) {
  // dx = y * (dy - sum(dy * y))
#pragma omp parallel for schedule(static) if (rows * n > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * n;
    const float* gr = dy + r * n;
    float* dr = dx + r * n;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t i = 0; i < n; ++i) dot += gr[i] * yr[i];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dr[i] = yr[i] * (gr[i] - dot);
  }
}

void log_softmax_forward(const float* x, float* y, int64_t rows, int64_t n) {
#pragma omp parallel for schedule(static) if (rows * n > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float lse = row_logsumexp(xr, n);
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) yr[i] = xr[i] - lse;
  }
}

void log_softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t n) {
  // dx = dy - softmax * sum(dy), softmax = exp(y)
#pragma omp parallel for schedule(static) if (rows * n > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* yr = y + r * n;
    const float* gr = dy + r * n;
    float* dr = dx + r * n;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += gr[i];
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) dr[i] = gr[i] - std::exp(yr[i]) * s;
  }
}

double cross_entropy_forward(const float* logits, const int32_t* targets, float* lse, int64_t rows,
                             int64_t v) {
#pragma omp parallel for schedule(static) if (rows * v > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) lse[r] = row_logsumexp(logits + r * v, v);
  // Summed in row order on one thread, so the loss bits never depend on scheduling.
  double total = 0.0;
  for (int64_t r = 0; r < rows; ++r) {
    if (targets[r] >= 0) total += static_cast<double>(lse[r]) - logits[r * v + targets[r]];
  }
  return total;
}

void cross_entropy_backward(const float* logits, const int32_t* targets, const float* lse,
                            float scale, float* dlogits, int64_t rows, int64_t v) {
#pragma omp parallel for schedule(static) if (rows * v > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = logits + r * v;
    float* dr = dlogits + r * v;
    if (targets[r] < 0) {
      for (int64_t i = 0; i < v; ++i) dr[i] = 0.0f;
      continue;
    }
    const float l = lse[r];
#pragma omp simd
    for (int64_t i = 0; i < v; ++i) dr[i] = scale * std::exp(xr[i] - l);
    dr[targets[r]] -= scale;
  }
}

}  // namespace sy::core::cpu
