// CPU kernels for elementwise arithmetic and the reductions their gradients need.
// All pointers are contiguous float32 arrays; out may alias a or b.
#pragma once

#include <cstdint>

namespace sy::core::cpu {

enum class BinaryOp { kAdd, kSub, kMul };

// out[i] = a[i] op b[i]                       a, b, out (n)
void binary_same(BinaryOp op, const float* a, const float* b, float* out, int64_t n);
// out[r,c] = a[r,c] op b[c]                   a, out (rows,cols); b (cols)
void binary_row(BinaryOp op, const float* a, const float* b, float* out, int64_t rows, int64_t cols);
// out[r,c] = a[r,c] op b[r]                   a, out (rows,cols); b (rows)
void binary_col(BinaryOp op, const float* a, const float* b, float* out, int64_t rows, int64_t cols);
// out[i] = alpha * x[i] + beta * y[i]         (y may be null when beta == 0)
void axpby(float alpha, const float* x, float beta, const float* y, float* out, int64_t n);

// out[c] = sum_r x[r,c]                        x (rows,cols) -> out (cols)
void sum_rows(const float* x, float* out, int64_t rows, int64_t cols);
// out[r] = sum_c x[r,c]                        x (rows,cols) -> out (rows)
void sum_cols(const float* x, float* out, int64_t rows, int64_t cols);
// out[c] = sum_r x[r,c] * y[r,c]               (the gradient of a row-broadcast product)
void sum_rows_product(const float* x, const float* y, float* out, int64_t rows, int64_t cols);
// out[r] = sum_c x[r,c] * y[r,c]
void sum_cols_product(const float* x, const float* y, float* out, int64_t rows, int64_t cols);
// sum of all elements, accumulated in double
double sum_all(const float* x, int64_t n);

// SiLU and the fused SwiGLU gate: out = silu(g) * u.
void silu_forward(const float* x, float* out, int64_t n);
void silu_backward(const float* x, const float* dout, float* dx, int64_t n);
void swiglu_forward(const float* g, const float* u, float* out, int64_t n);
void swiglu_backward(const float* g, const float* u, const float* dout, float* dg, float* du,
                     int64_t n);

}  // namespace sy::core::cpu
