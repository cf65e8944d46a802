// Row gathers and scatter-adds by an index vector: the building blocks of token embedding and of
// permuting tokens into contiguous per-expert groups and back.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

// out[i] = weight[ids[i]]                weight (V,D) float32, ids (...) int32 -> (...,D)
Tensor embedding(const Tensor& weight, const Tensor& ids);
// out[i] = x[idx[i]]                     x (N,...) float32, idx (M) int32 -> (M,...)
Tensor index_select(const Tensor& x, const Tensor& idx);
// out = x, then out[idx[i]] += src[i]    x (N,...), idx (M) int32, src (M,...) -> (N,...)
Tensor index_add(const Tensor& x, const Tensor& idx, const Tensor& src);

}  // namespace sy::core
