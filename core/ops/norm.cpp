#include "core/ops/norm.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/norm_kernels.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kRmsnormOp, "rmsnorm");

Tensor rmsnorm(const Tensor& x, const Tensor& w, float eps) {
  detail::require_f32("rmsnorm", {&x, &w});
  detail::require_cpu("rmsnorm", {&x, &w});
  SY_CHECK(x.ndim() >= 1, "rmsnorm: x must have a feature axis, got ", x.describe());
  const int64_t d = x.shape().last(), rows = x.shape().rows();
  check_shape(w, Shape{d}, "rmsnorm: weight must be (D)");
  SY_CHECK(eps > 0.0f, "rmsnorm: eps must be positive, got ", eps);
  Tensor y = Tensor::empty(x.shape());
  Tensor rstd = Tensor::empty(Shape{rows});
  cpu::rmsnorm_forward(x.f32(), w.f32(), y.f32(), rstd.f32(), rows, d, eps);
  const bool need = should_record(x, w);
  return record(kRmsnormOp, y, {x, w},
                [x = need ? x.detach() : Tensor(), w = need ? w.detach() : Tensor(), rstd, rows,
                 d](const Tensor& g) {
                  Tensor dx = Tensor::empty(x.shape());
                  Tensor dw = Tensor::empty(w.shape());
                  cpu::rmsnorm_backward(g.f32(), x.f32(), w.f32(), rstd.f32(), dx.f32(), dw.f32(),
                                        rows, d);
                  return std::vector<Tensor>{dx, dw};
                });
}

}  // namespace sy::core
