#include "core/ops/index_ops.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/index_kernels.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kEmbeddingOp, "embedding");
SY_REGISTER_OP(kIndexSelectOp, "index_select");
SY_REGISTER_OP(kIndexAddOp, "index_add");

namespace {

// Checks an int32 index tensor whose values must lie in [0, bound).
void check_indices(const char* op, const Tensor& idx, int64_t bound) {
  SY_CHECK(idx.defined() && idx.dtype() == DType::kI32, op, ": indices must be int32, got ",
           idx.describe());
  detail::require_cpu(op, {&idx});
  const int32_t* p = idx.i32();
  for (int64_t i = 0, n = idx.numel(); i < n; ++i) {
    SY_CHECK(p[i] >= 0 && p[i] < bound, op, ": index ", p[i], " at position ", i,
             " is outside [0, ", bound, ")");
  }
}

int64_t row_width(const Tensor& x) { return x.dim(0) == 0 ? 0 : x.numel() / x.dim(0); }

// Zeros of out_shape (N,...) with row i of src (M,...) added onto row idx[i].
Tensor scatter_rows(const Tensor& src, const Tensor& idx, const Shape& out_shape) {
  Tensor out = Tensor::zeros(out_shape);
  const int64_t width = out_shape[0] == 0 ? 0 : out_shape.numel() / out_shape[0];
  SY_CHECK(src.numel() == idx.numel() * width, "scatter_rows: ", src.describe(), " is not ",
           idx.numel(), " rows of ", width);
  cpu::scatter_add_rows(src.f32(), idx.i32(), out.f32(), idx.numel(), width);
  return out;
}

Tensor gather(const Tensor& x, const Tensor& idx, const Shape& out_shape) {
  Tensor out = Tensor::empty(out_shape);
  cpu::gather_rows(x.f32(), idx.i32(), out.f32(), idx.numel(), row_width(x));
  return out;
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  detail::require_f32("embedding", {&weight});
  detail::require_cpu("embedding", {&weight});
  SY_CHECK(weight.ndim() == 2, "embedding: weight must be (V,D), got ", weight.describe());
  check_indices("embedding", ids, weight.dim(0));
  const Tensor flat = ids.alias(Shape{ids.numel()});
  Tensor out = gather(weight, flat, ids.shape().appended(weight.dim(1)));
  return record(kEmbeddingOp, out, {weight}, [flat, shape = weight.shape()](const Tensor& g) {
    return std::vector<Tensor>{scatter_rows(g, flat, shape)};
  });
}

Tensor index_select(const Tensor& x, const Tensor& idx) {
  detail::require_f32("index_select", {&x});
  detail::require_cpu("index_select", {&x});
  SY_CHECK(x.ndim() >= 1 && idx.defined() && idx.ndim() == 1,
           "index_select: needs x (N,...) and idx (M), got ", x.describe(), " and ",
           idx.describe());
  check_indices("index_select", idx, x.dim(0));
  Tensor out = gather(x, idx, x.shape().with_dim(0, idx.numel()));
  return record(kIndexSelectOp, out, {x}, [idx = idx.detach(), shape = x.shape()](const Tensor& g) {
    return std::vector<Tensor>{scatter_rows(g, idx, shape)};
  });
}

Tensor index_add(const Tensor& x, const Tensor& idx, const Tensor& src) {
  detail::require_f32("index_add", {&x, &src});
  detail::require_cpu("index_add", {&x, &src});
  SY_CHECK(x.ndim() >= 1 && idx.defined() && idx.ndim() == 1 &&
               src.shape() == x.shape().with_dim(0, idx.numel()),
           "index_add: needs x (N,...), idx (M), src (M,...), got ", x.describe(), ", ",
           idx.describe(), ", ", src.describe());
  check_indices("index_add", idx, x.dim(0));
  Tensor out = x.clone();
  cpu::scatter_add_rows(src.f32(), idx.i32(), out.f32(), idx.numel(), row_width(src));
  return record(kIndexAddOp, out, {x, src},
                [idx = idx.detach(), src_shape = src.shape()](const Tensor& g) {
                  return std::vector<Tensor>{g, gather(g, idx, src_shape)};
                });
}

}  // namespace sy::core
