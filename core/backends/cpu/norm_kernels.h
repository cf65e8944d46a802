// RMSNorm on the CPU: y = x / sqrt(mean(x^2) + eps) * w, row by row.
#pragma once

#include <cstdint>

namespace sy::core::cpu {

// x, y (rows,D); w (D); rstd (rows) receives 1/sqrt(mean(x^2)+eps) for the backward pass.
void rmsnorm_forward(const float* x, const float* w, float* y, float* rstd, int64_t rows, int64_t d,
                     float eps);
// dy, x (rows,D); w (D); rstd (rows) -> dx (rows,D), dw (D) (dw is overwritten, not accumulated).
void rmsnorm_backward(const float* dy, const float* x, const float* w, const float* rstd, float* dx,
                      float* dw, int64_t rows, int64_t d);

}  // namespace sy::core::cpu
