// Shape changes. reshape and slice_rows return views that share storage with their input;
// transpose permutes two dimensions into a new contiguous tensor.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

// x (...) -> shape, same numel; one extent may be -1 (inferred). A view.
Tensor reshape(const Tensor& x, const std::vector<int64_t>& shape);
// x (R,...) -> (count,...): rows [start, start+count) of the first dimension. A view.
Tensor slice_rows(const Tensor& x, int64_t start, int64_t count);
// x (...) with dims d0 and d1 swapped, copied contiguous. Negative dims count from the end.
Tensor transpose(const Tensor& x, int d0, int d1);
// Concatenation along the first dimension: (R1,...), (R2,...) -> (R1+R2,...).
Tensor concat_rows(const std::vector<Tensor>& parts);

}  // namespace sy::core
