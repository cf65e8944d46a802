// CUDA kernels for elementwise arithmetic, its reductions, SiLU/SwiGLU and GEMM (compiled only
// with the CUDA backend). Plain C++ declarations, no CUDA headers, so host code can call them.
//
// The CUDA twin of core/backends/cpu/elementwise_kernels.h and gemm.h: the same contracts, with
// every pointer a contiguous float32 array in the memory of GPU `device` (a CUDA ordinal), and
// out allowed to alias an input wherever the CPU kernel allows it. Each launcher makes `device`
// current, enqueues on the default stream (stream 0) and checks the launch; it does not wait for
// the kernel. Reductions are deterministic: a fixed order per launch shape, no float atomics.
#pragma once

#include <cstdint>

namespace sy::core::cuda {

enum class BinaryOp { kAdd, kSub, kMul };

// ---- elementwise ----

// out[i] = a[i] op b[i]                       a, b, out (n)
void binary_same(int device, BinaryOp op, const float* a, const float* b, float* out, int64_t n);
// out[r,c] = a[r,c] op b[c]                   a, out (rows,cols); b (cols)
void binary_row(int device, BinaryOp op, const float* a, const float* b, float* out, int64_t rows,
                int64_t cols);
// out[r,c] = a[r,c] op b[r]                   a, out (rows,cols); b (rows)
void binary_col(int device, BinaryOp op, const float* a, const float* b, float* out, int64_t rows,
                int64_t cols);
// out[i] = a[i] op b[0]                       a, out (n); b (1), read on the device
void binary_scalar(int device, BinaryOp op, const float* a, const float* b, float* out, int64_t n);
// out[i] = alpha * x[i] + beta * y[i]         x, y, out (n); y may be null when beta == 0
void axpby(int device, float alpha, const float* x, float beta, const float* y, float* out,
           int64_t n);

// SiLU and the fused SwiGLU gate: out = silu(g) * u.
// x, out (n)
void silu_forward(int device, const float* x, float* out, int64_t n);
// x, dout, dx (n)
void silu_backward(int device, const float* x, const float* dout, float* dx, int64_t n);
// g, u, out (n)
void swiglu_forward(int device, const float* g, const float* u, float* out, int64_t n);
// g, u, dout, dg, du (n)
void swiglu_backward(int device, const float* g, const float* u, const float* dout, float* dg,
                     float* du, int64_t n);

// ---- reductions (out must not alias x or y) ----

// out[c] = sum_r x[r,c]                        x (rows,cols) -> out (cols)
void sum_rows(int device, const float* x, float* out, int64_t rows, int64_t cols);
// out[r] = sum_c x[r,c]                        x (rows,cols) -> out (rows)
void sum_cols(int device, const float* x, float* out, int64_t rows, int64_t cols);
// out[c] = sum_r x[r,c] * y[r,c]               x, y (rows,cols) -> out (cols)
void sum_rows_product(int device, const float* x, const float* y, float* out, int64_t rows,
                      int64_t cols);
// out[r] = sum_c x[r,c] * y[r,c]               x, y (rows,cols) -> out (rows)
void sum_cols_product(int device, const float* x, const float* y, float* out, int64_t rows,
                      int64_t cols);
// out[0] = sum_i x[i], accumulated in double   x (n) -> out (1)
void sum_all(int device, const float* x, float* out, int64_t n);

// ---- matrix products (cuBLAS, fp32 compute, no TF32) ----

// C (M,N) = alpha * op(A) op(B) + beta * C, row-major; op(A) is (M,K), op(B) is (K,N).
// lda/ldb/ldc are the row strides of A, B, C as stored.
void gemm(int device, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);
// The same product for `batch` independent matrices laid out one after another:
// a (batch, op(A) stored), b (batch, op(B) stored), c (batch,M,N).
void gemm_batched(int device, int64_t batch, bool trans_a, bool trans_b, int64_t m, int64_t n,
                  int64_t k, float alpha, const float* a, const float* b, float beta, float* c);

}  // namespace sy::core::cuda
