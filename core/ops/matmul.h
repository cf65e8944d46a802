// Matrix products through BLAS.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

// op(X) is X or its transpose (of the last two dims) as trans_* says.
//   a (M,K) or (...,M,K) with b 2-D: a's leading dims are flattened, out (...,M,N)
//       (a linear layer: y = x W^T is matmul(x, W, false, true), x (N,D), W (F,D) -> (N,F))
//   a (B,M,K), b (B,K,N) (before transposes): a batched product, out (B,M,N)
// trans_a needs a 2-D or batched a.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);

}  // namespace sy::core
