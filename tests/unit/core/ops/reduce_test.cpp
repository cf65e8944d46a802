// Reductions: values and gradient checks.
#include "core/ops/reduce.h"

#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

TEST(Reduce, SumMeanSumLast) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_FLOAT_EQ(sum(x).item(), 21.0f);
  EXPECT_FLOAT_EQ(mean(x).item(), 3.5f);
  Tensor s = sum_last(x);
  ASSERT_EQ(s.shape(), (Shape{2}));
  expect_close(s, {6, 15});
}

TEST(Reduce, SumOfManySmallValuesIsAccurate) {
  // Accumulated in double: a float accumulator would drift far beyond this tolerance.
  Tensor x = Tensor::full({1 << 22}, 0.1f);
  EXPECT_NEAR(sum(x).item(), 0.1f * (1 << 22), 1.0f);
}

SY_GRADCHECK_CASE("sum", sum) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({3, 4})};
  spec.fn = [](const std::vector<Tensor>& x) { return sum(x[0]); };
  return spec;
}

SY_GRADCHECK_CASE("mean", mean) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({3, 4})};
  spec.fn = [](const std::vector<Tensor>& x) { return mean(x[0]); };
  return spec;
}

SY_GRADCHECK_CASE("sum_last", sum_last) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({2, 3, 4})};
  spec.fn = [](const std::vector<Tensor>& x) { return sum_last(x[0]); };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
