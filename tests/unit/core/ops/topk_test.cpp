// topk: ordering, ties, gradient routing, gradient check.
#include "core/ops/topk.h"

#include <cmath>

#include "core/common/error.h"
#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

TEST(Topk, DescendingWithIndices) {
  Tensor x = Tensor::from_vector({0.1f, 0.7f, 0.2f, 0.9f, 5, 4, 3, 2}, {2, 4});
  TopK t = topk(x, 2);
  ASSERT_EQ(t.values.shape(), (Shape{2, 2}));
  expect_close(t.values, {0.9f, 0.7f, 5, 4});
  EXPECT_EQ(t.indices.to_int_vector(), (std::vector<int32_t>{3, 1, 0, 1}));
}

TEST(Topk, TiesGoToTheLowerIndexAndNanRanksLast) {
  Tensor x = Tensor::from_vector({1, 2, 2, NAN, 2}, {5});
  EXPECT_EQ(topk(x, 3).indices.to_int_vector(), (std::vector<int32_t>{1, 2, 4}));
}

TEST(Topk, GradientReachesSelectedPositionsOnly) {
  Tensor x = Tensor::from_vector({3, 1, 2}, {3});
  x.set_requires_grad(true);
  TopK t = topk(x, 2);
  t.values.backward(Tensor::from_vector({10, 20}, {2}));
  expect_close(x.grad(), {10, 0, 20});
}

TEST(Topk, RejectsBadK) {
  EXPECT_THROW(topk(Tensor::zeros({2, 3}), 0), Error);
  EXPECT_THROW(topk(Tensor::zeros({2, 3}), 4), Error);
}

SY_GRADCHECK_CASE("topk", topk) {
  // Distinct values at least 0.3 apart, so a perturbation of eps = 1e-2 never changes the choice.
  GradcheckSpec spec;
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.3f * static_cast<float>((i * 7) % 24) - 3.0f;
  spec.inputs = {Tensor::from_vector(v, {3, 8})};
  spec.fn = [](const std::vector<Tensor>& x) { return topk(x[0], 3).values; };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
