#include "core/ops/loss.h"

#include "core/autograd/node.h"
#include "core/backends/cpu/softmax_kernels.h"
#include "core/ops/op_utils.h"

namespace sy::core {

SY_REGISTER_OP(kCrossEntropyOp, "cross_entropy");

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
  detail::require_f32("cross_entropy", {&logits});
  detail::require_cpu("cross_entropy", {&logits, &targets});
  SY_CHECK(logits.ndim() == 2, "cross_entropy: logits must be (N,V), got ", logits.describe());
  const int64_t rows = logits.dim(0), v = logits.dim(1);
  SY_CHECK(targets.defined() && targets.dtype() == DType::kI32 && targets.shape() == Shape{rows},
           "cross_entropy: targets must be int32 (", rows, "), got ", targets.describe());
  const int32_t* t = targets.i32();
  int64_t kept = 0;
  for (int64_t r = 0; r < rows; ++r) {
    SY_CHECK(t[r] < v, "cross_entropy: target ", t[r], " at row ", r, " >= vocabulary size ", v);
    kept += t[r] >= 0;
  }
  Tensor lse = Tensor::empty(Shape{rows});
  const double total = cpu::cross_entropy_forward(logits.f32(), t, lse.f32(), rows, v);
  const double inv = kept > 0 ? 1.0 / static_cast<double>(kept) : 0.0;
  Tensor loss = Tensor::scalar(static_cast<float>(total * inv));
  const bool need = should_record(logits);
  return record(kCrossEntropyOp, loss, {logits},
                [logits = need ? logits.detach() : Tensor(), targets = targets.detach(), lse, inv,
                 rows, v](const Tensor& g) {
                  Tensor dlogits = Tensor::empty(logits.shape());
                  cpu::cross_entropy_backward(logits.f32(), targets.i32(), lse.f32(),
                                              static_cast<float>(g.item() * inv), dlogits.f32(),
                                              rows, v);
                  return std::vector<Tensor>{dlogits};
                });
}

}  // namespace sy::core
