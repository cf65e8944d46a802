// Top-k selection along the last axis.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

struct TopK {
  Tensor values;   // (...,k) float32, descending; differentiable
  Tensor indices;  // (...,k) int32 positions in the last axis; ties go to the lower index
};

// x (...,n) -> the k largest entries of each row and where they were. The gradient of values
// flows back to the selected positions (zero elsewhere).
TopK topk(const Tensor& x, int64_t k);

}  // namespace sy::core
