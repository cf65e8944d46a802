#include "core/ops/view_ops.h"

#include <cstring>

#include "core/autograd/node.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kReshapeOp, "reshape");
SY_REGISTER_OP(kSliceRowsOp, "slice_rows");
SY_REGISTER_OP(kTransposeOp, "transpose");
SY_REGISTER_OP(kConcatRowsOp, "concat_rows");

Tensor reshape(const Tensor& x, const std::vector<int64_t>& shape) {
  SY_CHECK(x.defined(), "reshape: undefined input");
  std::vector<int64_t> dims = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == -1) {
      SY_CHECK(infer < 0, "reshape: more than one -1 in the target shape");
      infer = static_cast<int>(i);
    } else {
      known *= dims[i];
    }
  }
  if (infer >= 0) {
    SY_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot infer -1 reshaping ",
             x.describe());
    dims[static_cast<size_t>(infer)] = x.numel() / known;
  }
  const Shape target(dims);
  SY_CHECK(target.numel() == x.numel(), "reshape: ", x.describe(), " has ", x.numel(),
           " elements, target ", target.to_string(), " has ", target.numel());
  Tensor out = x.alias(target);
  return record(kReshapeOp, out, {x}, [in_shape = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{g.alias(in_shape)};
  });
}

Tensor slice_rows(const Tensor& x, int64_t start, int64_t count) {
  SY_CHECK(x.defined() && x.ndim() >= 1, "slice_rows: needs a tensor with a first dimension");
  const int64_t rows = x.dim(0);
  SY_CHECK(start >= 0 && count >= 0 && start + count <= rows, "slice_rows: rows [", start, ", ",
           start + count, ") out of range for ", x.describe());
  const int64_t row_size = rows == 0 ? 0 : x.numel() / rows;
  Tensor out = x.alias(x.shape().with_dim(0, count), start * row_size);
  return record(kSliceRowsOp, out, {x},
                [in_shape = x.shape(), start, row_size, dtype = x.dtype(),
                 device = x.device()](const Tensor& g) {
                  Tensor dx = Tensor::zeros(in_shape, dtype, device);
                  dx.alias(g.shape(), start * row_size).copy_(g);
                  return std::vector<Tensor>{dx};
                });
}

namespace {

// out = x with dims d0 < d1 swapped. Viewed as (outer, n0, mid, n1, inner) -> (outer, n1, mid, n0,
// inner), copying runs of `inner` contiguous elements.
Tensor transpose_copy(const Tensor& x, int d0, int d1) {
  const Shape& s = x.shape();
  int64_t outer = 1, mid = 1, inner = 1;
  for (int i = 0; i < d0; ++i) outer *= s[i];
  for (int i = d0 + 1; i < d1; ++i) mid *= s[i];
  for (int i = d1 + 1; i < s.ndim(); ++i) inner *= s[i];
  const int64_t n0 = s[d0], n1 = s[d1];
  Shape out_shape = s.with_dim(d0, n1).with_dim(d1, n0);
  Tensor out = Tensor::empty(out_shape, x.dtype());
  const char* src = static_cast<const char*>(x.raw());
  char* dst = static_cast<char*>(out.raw());
  const size_t run = static_cast<size_t>(inner) * dtype_size(x.dtype());
#pragma omp parallel for collapse(2) schedule(static) if (x.numel() > (1 << 15))
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < n0; ++i) {
      for (int64_t m = 0; m < mid; ++m) {
        for (int64_t j = 0; j < n1; ++j) {
          const int64_t from = (((o * n0 + i) * mid + m) * n1 + j) * inner;
          const int64_t to = (((o * n1 + j) * mid + m) * n0 + i) * inner;
          std::memcpy(dst + to * 4, src + from * 4, run);
        }
      }
    }
  }
  return out;
}

}  // namespace

Tensor transpose(const Tensor& x, int d0, int d1) {
  SY_CHECK(x.defined(), "transpose: undefined input");
  detail::require_cpu("transpose", {&x});
  const int n = x.ndim();
  int a = d0 < 0 ? d0 + n : d0, b = d1 < 0 ? d1 + n : d1;
  SY_CHECK(a >= 0 && a < n && b >= 0 && b < n, "transpose: dims ", d0, ", ", d1,
           " out of range for ", x.describe());
  if (a == b) return reshape(x, x.shape().to_vector());
  if (a > b) std::swap(a, b);
  Tensor out = transpose_copy(x, a, b);
  return record(kTransposeOp, out, {x},
                [a, b](const Tensor& g) { return std::vector<Tensor>{transpose_copy(g, a, b)}; });
}

Tensor concat_rows(const std::vector<Tensor>& parts) {
  SY_CHECK(!parts.empty(), "concat_rows: no tensors");
  const Tensor& first = parts.front();
  int64_t rows = 0;
  for (const Tensor& p : parts) {
    SY_CHECK(p.defined() && p.ndim() >= 1 && p.dtype() == first.dtype() &&
                 p.device() == first.device() &&
                 p.shape().with_dim(0, 0) == first.shape().with_dim(0, 0),
             "concat_rows: ", p.describe(), " does not stack with ", first.describe());
    rows += p.dim(0);
  }
  Tensor out = Tensor::empty(first.shape().with_dim(0, rows), first.dtype(), first.device());
  std::vector<int64_t> offsets;
  int64_t offset = 0;
  for (const Tensor& p : parts) {
    offsets.push_back(offset);
    out.alias(p.shape(), offset).copy_(p);
    offset += p.numel();
  }
  std::vector<Shape> shapes;
  for (const Tensor& p : parts) shapes.push_back(p.shape());
  return record(kConcatRowsOp, out, parts, [shapes, offsets](const Tensor& g) {
    std::vector<Tensor> grads;
    for (size_t i = 0; i < shapes.size(); ++i)
      grads.push_back(g.alias(shapes[i], offsets[i]).clone());
    return grads;
  });
}

}  // namespace sy::core
