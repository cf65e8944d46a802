// Proves the gradient check can fail: an op whose backward rule is deliberately wrong.
#include "core/autograd/node.h"
#include "tests/unit/core/gradcheck/gradcheck.h"

namespace sy::core::testing {
namespace {

SY_REGISTER_OP(kWrongGradientOp, "testing_wrong_gradient");

// y = 3x, but the backward rule claims dy/dx = 2.
Tensor wrong_gradient(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) y.f32()[i] = 3.0f * x.f32()[i];
  return record(kWrongGradientOp, y, {x}, [](const Tensor& g) {
    Tensor dx = Tensor::empty(g.shape());
    for (int64_t i = 0; i < g.numel(); ++i) dx.f32()[i] = 2.0f * g.f32()[i];
    return std::vector<Tensor>{dx};
  });
}

SY_GRADCHECK_CASE("testing_wrong_gradient", negative_control_wrong_gradient) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({4})};
  spec.fn = [](const std::vector<Tensor>& x) { return wrong_gradient(x[0]); };
  spec.expect_failure = true;
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
