// Softmax and log-softmax along the last axis.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

Tensor softmax(const Tensor& x);      // x (...,n) -> (...,n), rows sum to 1
Tensor log_softmax(const Tensor& x);  // x (...,n) -> (...,n), x - logsumexp(x)

}  // namespace sy::core
