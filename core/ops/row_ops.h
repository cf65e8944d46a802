// Row-wise functions the router and its losses need.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

Tensor logsumexp(const Tensor& x);       // x (...,n) -> (...) log(sum(exp(x))) along the last axis
Tensor normalize_rows(const Tensor& x);  // x (...,n) -> (...,n) x / sum(x) along the last axis
Tensor softplus(const Tensor& x);        // x (...) -> (...) log(1 + exp(x)), stable for large |x|
Tensor sum_rows(const Tensor& x);        // x (R,...) -> (...) the sum over the first axis

}  // namespace sy::core
