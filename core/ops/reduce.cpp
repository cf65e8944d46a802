#include "core/ops/reduce.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/elementwise_kernels.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kSumOp, "sum");
SY_REGISTER_OP(kMeanOp, "mean");
SY_REGISTER_OP(kSumLastOp, "sum_last");

namespace {

// The whole-tensor reduction shared by sum and mean: out = scale * sum(x), accumulated in double.
Tensor scaled_total(const OpInfo& op, const Tensor& x, double factor) {
  detail::require_f32(op.name().c_str(), {&x});
  detail::require_cpu(op.name().c_str(), {&x});
  Tensor out = Tensor::scalar(static_cast<float>(cpu::sum_all(x.f32(), x.numel()) * factor));
  return record(op, out, {x}, [shape = x.shape(), factor](const Tensor& g) {
    return std::vector<Tensor>{Tensor::full(shape, static_cast<float>(g.item() * factor))};
  });
}

}  // namespace

Tensor sum(const Tensor& x) { return scaled_total(kSumOp, x, 1.0); }

Tensor mean(const Tensor& x) {
  SY_CHECK(x.numel() > 0, "mean of an empty tensor ", x.describe());
  return scaled_total(kMeanOp, x, 1.0 / static_cast<double>(x.numel()));
}

Tensor sum_last(const Tensor& x) {
  detail::require_f32("sum_last", {&x});
  detail::require_cpu("sum_last", {&x});
  SY_CHECK(x.ndim() >= 1, "sum_last of a scalar");
  const int64_t cols = x.shape().last(), rows = x.shape().rows();
  Tensor out = Tensor::empty(x.shape().without_last());
  cpu::sum_cols(x.f32(), out.f32(), rows, cols);
  return record(kSumLastOp, out, {x}, [shape = x.shape(), rows, cols](const Tensor& g) {
    // Each input element gets its row's gradient.
    Tensor dx = Tensor::zeros(shape);
    cpu::binary_col(cpu::BinaryOp::kAdd, dx.f32(), g.f32(), dx.f32(), rows, cols);
    return std::vector<Tensor>{dx};
  });
}

}  // namespace sy::core
