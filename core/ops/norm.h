// Normalisation layers.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

// RMSNorm over the last axis: x / sqrt(mean(x^2) + eps) * w.   x (...,D), w (D) -> (...,D)
Tensor rmsnorm(const Tensor& x, const Tensor& w, float eps);

}  // namespace sy::core
