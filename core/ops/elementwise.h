// Elementwise arithmetic with the broadcasting the model needs, SiLU and the fused SwiGLU gate.
//
// Broadcasting of b against a (the output has a's shape):
//   same    b.shape == a.shape
//   row     b has a's trailing dims, e.g. b (D) over a (N,D): a bias or norm weight per column
//   column  b is a's shape with the last dim 1, e.g. b (N,1) over a (N,D): a weight per row
//   scalar  b has one element
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

Tensor add(const Tensor& a, const Tensor& b);  // a (...) + b (broadcast) -> (...)
Tensor sub(const Tensor& a, const Tensor& b);  // a (...) - b (broadcast) -> (...)
Tensor mul(const Tensor& a, const Tensor& b);  // a (...) * b (broadcast) -> (...)
Tensor scale(const Tensor& x, float s);        // x (...) * s -> (...)

Tensor silu(const Tensor& x);                           // x * sigmoid(x), x (...) -> (...)
Tensor swiglu(const Tensor& gate, const Tensor& up);    // silu(gate) * up, (...) -> (...)

// In place, outside autograd: dst += src / dst = dst + alpha * src (same shapes).
void add_(Tensor& dst, const Tensor& src);
void axpy_(Tensor& dst, float alpha, const Tensor& src);

}  // namespace sy::core
