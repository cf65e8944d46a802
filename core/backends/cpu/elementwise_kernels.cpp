#include "core/backends/cpu/elementwise_kernels.h"

#include <cmath>
#include <vector>

#include <omp.h>

#include "core/backends/cpu/parallel_for.h"

namespace sy::core::cpu {

namespace {

template <typename F>
void binary_loop(F f, const float* a, const float* b, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

template <typename F>
void dispatch(BinaryOp op, F&& run) {
  switch (op) {
    case BinaryOp::kAdd: run([](float x, float y) { return x + y; }); break;
    case BinaryOp::kSub: run([](float x, float y) { return x - y; }); break;
    case BinaryOp::kMul: run([](float x, float y) { return x * y; }); break;
  }
}

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

void binary_same(BinaryOp op, const float* a, const float* b, float* out, int64_t n) {
  dispatch(op, [&](auto f) { binary_loop(f, a, b, out, n); });
}

void binary_row(BinaryOp op, const float* a, const float* b, float* out, int64_t rows,
                int64_t cols) {
  dispatch(op, [&](auto f) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const float* ar = a + r * cols;
      float* orow = out + r * cols;
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) orow[c] = f(ar[c], b[c]);
    }
  });
}

void binary_col(BinaryOp op, const float* a, const float* b, float* out, int64_t rows,
                int64_t cols) {
  dispatch(op, [&](auto f) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const float* ar = a + r * cols;
      float* orow = out + r * cols;
      const float br = b[r];
#pragma omp simd
      for (int64_t c = 0; c < cols; ++c) orow[c] = f(ar[c], br);
    }
  });
}

void axpby(float alpha, const float* x, float beta, const float* y, float* out, int64_t n) {
  if (beta == 0.0f) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) out[i] = alpha * x[i];
    return;
  }
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = alpha * x[i] + beta * y[i];
}

namespace {

// Column sums of x (or of x * y) with a fixed per-thread split, so results do not depend on
// scheduling: thread t sums a fixed block of rows, then blocks are added in order.
template <bool kProduct>
void column_sums(const float* x, const float* y, float* out, int64_t rows, int64_t cols) {
  const int threads = rows * cols > kParallelGrain ? omp_get_max_threads() : 1;
  std::vector<float> partial(static_cast<size_t>(threads) * static_cast<size_t>(cols), 0.0f);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int t = 0; t < threads; ++t) {
    const int64_t r0 = rows * t / threads, r1 = rows * (t + 1) / threads;
    float* acc = partial.data() + static_cast<size_t>(t) * static_cast<size_t>(cols);
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      if constexpr (kProduct) {
        const float* yr = y + r * cols;
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) acc[c] += xr[c] * yr[c];
      } else {
#pragma omp simd
        for (int64_t c = 0; c < cols; ++c) acc[c] += xr[c];
      }
    }
  }
  for (int64_t c = 0; c < cols; ++c) out[c] = 0.0f;
  for (int t = 0; t < threads; ++t) {
    const float* acc = partial.data() + static_cast<size_t>(t) * static_cast<size_t>(cols);
    for (int64_t c = 0; c < cols; ++c) out[c] += acc[c];
  }
}

}  // namespace

void sum_rows(const float* x, float* out, int64_t rows, int64_t cols) {
  column_sums<false>(x, nullptr, out, rows, cols);
}

void sum_rows_product(const float* x, const float* y, float* out, int64_t rows, int64_t cols) {
  column_sums<true>(x, y, out, rows, cols);
}

void sum_cols(const float* x, float* out, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < cols; ++c) s += xr[c];
    out[r] = s;
  }
}

void sum_cols_product(const float* x, const float* y, float* out, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* yr = y + r * cols;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int64_t c = 0; c < cols; ++c) s += xr[c] * yr[c];
    out[r] = s;
  }
}

double sum_all(const float* x, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return s;
}

void silu_forward(const float* x, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * sigmoid(x[i]);
}

void silu_backward(const float* x, const float* dout, float* dx, int64_t n) {
  // d/dx [x s(x)] = s(x) (1 + x (1 - s(x)))
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const float s = sigmoid(x[i]);
    dx[i] = dout[i] * s * (1.0f + x[i] * (1.0f - s));
  }
}

void swiglu_forward(const float* g, const float* u, float* out, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = g[i] * sigmoid(g[i]) * u[i];
}

void swiglu_backward(const float* g, const float* u, const float* dout, float* dg, float* du,
                     int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const float s = sigmoid(g[i]);
    const float silu = g[i] * s;
    du[i] = dout[i] * silu;
    dg[i] = dout[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
  }
}

}  // namespace sy::core::cpu
