#include "core/ops/softmax.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/softmax_kernels.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kSoftmaxOp, "softmax");
SY_REGISTER_OP(kLogSoftmaxOp, "log_softmax");

namespace {

using Forward = void (*)(const float*, float*, int64_t, int64_t);
using Backward = void (*)(const float*, const float*, float*, int64_t, int64_t);

// Both ops save only their output: softmax's and log-softmax's gradients are functions of it.
Tensor row_normalise(const OpInfo& op, const Tensor& x, Forward forward, Backward backward) {
  detail::require_f32(op.name().c_str(), {&x});
  detail::require_cpu(op.name().c_str(), {&x});
  SY_CHECK(x.ndim() >= 1, op.name(), ": needs at least one axis, got ", x.describe());
  const int64_t n = x.shape().last(), rows = x.shape().rows();
  Tensor y = Tensor::empty(x.shape());
  forward(x.f32(), y.f32(), rows, n);
  return record(op, y, {x}, [y = y.detach(), rows, n, backward](const Tensor& g) {
    Tensor dx = Tensor::empty(y.shape());
    backward(y.f32(), g.f32(), dx.f32(), rows, n);
    return std::vector<Tensor>{dx};
  });
}

}  // namespace

Tensor softmax(const Tensor& x) {
  return row_normalise(kSoftmaxOp, x, cpu::softmax_forward, cpu::softmax_backward);
}

Tensor log_softmax(const Tensor& x) {
  return row_normalise(kLogSoftmaxOp, x, cpu::log_softmax_forward, cpu::log_softmax_backward);
}

}  // namespace sy::core
