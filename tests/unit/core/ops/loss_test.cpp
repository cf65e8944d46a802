// cross_entropy: values against log_softmax, ignored rows, range checks, gradient checks.
#include "core/ops/loss.h"

#include <cmath>

#include "core/common/error.h"
#include "core/ops/softmax.h"
#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

TEST(CrossEntropy, UniformLogitsGiveLogV) {
  Tensor logits = Tensor::zeros({4, 7});
  Tensor targets = Tensor::from_ints({0, 3, 6, 2}, {4});
  EXPECT_NEAR(cross_entropy(logits, targets).item(), std::log(7.0f), 1e-6f);
}

TEST(CrossEntropy, EqualsMeanNegativeLogSoftmaxAtTargets) {
  Rng rng(5);
  Tensor logits = rng.normal({6, 9}, 0.0f, 3.0f);
  const std::vector<int32_t> t = {1, 8, 0, 4, 4, 2};
  const auto ls = log_softmax(logits).to_vector();
  double ref = 0;
  for (int r = 0; r < 6; ++r) ref -= ls[static_cast<size_t>(r * 9 + t[static_cast<size_t>(r)])];
  EXPECT_NEAR(cross_entropy(logits, Tensor::from_ints(t, {6})).item(), ref / 6, 1e-5);
}

TEST(CrossEntropy, NegativeTargetsAreIgnored) {
  Tensor logits = Tensor::from_vector({0, 0, 5, -5}, {2, 2});
  const float only_first = cross_entropy(logits.alias({1, 2}), Tensor::from_ints({1}, {1})).item();
  EXPECT_FLOAT_EQ(cross_entropy(logits, Tensor::from_ints({1, -1}, {2})).item(), only_first);
  EXPECT_FLOAT_EQ(cross_entropy(logits, Tensor::from_ints({-1, -1}, {2})).item(), 0.0f);
}

TEST(CrossEntropy, StableForHugeLogits) {
  Tensor logits = Tensor::from_vector({1e4f, 0, -1e4f}, {1, 3});
  EXPECT_NEAR(cross_entropy(logits, Tensor::from_ints({0}, {1})).item(), 0.0f, 1e-6f);
  EXPECT_NEAR(cross_entropy(logits, Tensor::from_ints({1}, {1})).item(), 1e4f, 1.0f);
}

TEST(CrossEntropy, RejectsBadTargets) {
  Tensor logits = Tensor::zeros({2, 3});
  EXPECT_THROW(cross_entropy(logits, Tensor::from_ints({0, 3}, {2})), Error);
  EXPECT_THROW(cross_entropy(logits, Tensor::from_ints({0}, {1})), Error);
  EXPECT_THROW(cross_entropy(logits, Tensor::zeros({2})), Error);  // float targets
}

SY_GRADCHECK_CASE("cross_entropy", cross_entropy) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({4, 6}, 0.0f, 2.0f)};
  spec.fn = [](const std::vector<Tensor>& x) {
    return cross_entropy(x[0], Tensor::from_ints({5, 0, 2, 2}, {4}));
  };
  return spec;
}

SY_GRADCHECK_CASE("cross_entropy", cross_entropy_with_ignored_rows) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({4, 6}, 0.0f, 2.0f)};
  spec.fn = [](const std::vector<Tensor>& x) {
    return cross_entropy(x[0], Tensor::from_ints({5, -1, 2, -1}, {4}));
  };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
