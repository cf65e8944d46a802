#include "core/ops/topk.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/index_kernels.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kTopkOp, "topk");

TopK topk(const Tensor& x, int64_t k) {
  detail::require_f32("topk", {&x});
  detail::require_cpu("topk", {&x});
  SY_CHECK(x.ndim() >= 1, "topk: needs at least one axis, got ", x.describe());
  const int64_t n = x.shape().last(), rows = x.shape().rows();
  SY_CHECK(k >= 1 && k <= n, "topk: k = ", k, " must be in [1, ", n, "]");
  const Shape out_shape = x.shape().with_dim(-1, k);
  TopK out{Tensor::empty(out_shape), Tensor::empty(out_shape, DType::kI32)};
  cpu::topk(x.f32(), out.values.f32(), out.indices.i32(), rows, n, k);
  out.values = record(kTopkOp, out.values, {x},
                      [indices = out.indices, shape = x.shape(), rows, n, k](const Tensor& g) {
                        Tensor dx = Tensor::empty(shape);
                        cpu::topk_backward(g.f32(), indices.i32(), dx.f32(), rows, n, k);
                        return std::vector<Tensor>{dx};
                      });
  return out;
}

}  // namespace sy::core
