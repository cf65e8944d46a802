// The rope op: checks, the CPU kernel, and its backward (the inverse rotation of the gradient).
#include "core/ops/rope.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/rope_kernels.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kRopeOp, "rope");

// x (B,T,H,hd) -> (B,T,H,hd)
Tensor rope(const Tensor& x, float theta, int64_t start_pos) {
  detail::require_f32("rope", {&x});
  detail::require_cpu("rope", {&x});
  SY_CHECK(x.ndim() == 4, "rope: x must be (B,T,H,hd), got ", x.describe());
  SY_CHECK(x.dim(3) % 2 == 0, "rope: head width hd must be even, got x ", x.describe());
  SY_CHECK(theta > 0.0f, "rope: theta must be positive, got ", theta);
  SY_CHECK(start_pos >= 0, "rope: start_pos must be non-negative, got ", start_pos);
  const int64_t batch = x.dim(0), seq = x.dim(1), heads = x.dim(2), head_dim = x.dim(3);
  Tensor out = Tensor::empty(x.shape());
  cpu::rope(x.f32(), out.f32(), batch, seq, heads, head_dim, theta, start_pos, /*inverse=*/false);
  return record(kRopeOp, out, {x}, [theta, start_pos](const Tensor& g) {
    // g, dx (B,T,H,hd): the rotation is orthogonal, so dx = R^T g = R(-angle) g.
    Tensor dx = Tensor::empty(g.shape());
    cpu::rope(g.f32(), dx.f32(), g.dim(0), g.dim(1), g.dim(2), g.dim(3), theta, start_pos,
              /*inverse=*/true);
    return std::vector<Tensor>{dx};
  });
}

}  // namespace sy::core
