// Reductions.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

Tensor sum(const Tensor& x);       // x (...) -> () the sum of all elements
Tensor mean(const Tensor& x);      // x (...) -> () the mean of all elements
Tensor sum_last(const Tensor& x);  // x (...,D) -> (...) sums along the last axis

}  // namespace sy::core
