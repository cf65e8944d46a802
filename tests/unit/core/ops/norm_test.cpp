// RMSNorm: hand-computed values and a gradient check.
#include "core/ops/norm.h"

#include <cmath>

#include "core/common/error.h"
#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

TEST(RmsNorm, HandComputed) {
  // Row (3, 4): mean square 12.5, so y = x / sqrt(12.5 + eps) * w.
  Tensor x = Tensor::from_vector({3, 4, 0, 0}, {2, 2});
  Tensor w = Tensor::from_vector({1, 2}, {2});
  const float eps = 1e-5f;
  const float r = 1.0f / std::sqrt(12.5f + eps);
  expect_close(rmsnorm(x, w, eps), {3 * r, 8 * r, 0, 0});  // a zero row stays zero (eps)
}

TEST(RmsNorm, RejectsBadWeightAndEps) {
  Tensor x = Tensor::zeros({2, 3});
  EXPECT_THROW(rmsnorm(x, Tensor::zeros({2}), 1e-5f), Error);
  EXPECT_THROW(rmsnorm(x, Tensor::zeros({3}), 0.0f), Error);
}

SY_GRADCHECK_CASE("rmsnorm", rmsnorm) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({2, 3, 5}), rng.normal({5}, 1.0f, 0.3f)};
  spec.fn = [](const std::vector<Tensor>& x) { return rmsnorm(x[0], x[1], 1e-5f); };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
