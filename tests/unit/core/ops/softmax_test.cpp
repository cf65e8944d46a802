// softmax and log_softmax: values, stability, gradient checks.
#include "core/ops/softmax.h"

#include <cmath>

#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

TEST(Softmax, HandComputed) {
  Tensor x = Tensor::from_vector({0, std::log(3.0f), 1, 1}, {2, 2});
  expect_close(softmax(x), {0.25f, 0.75f, 0.5f, 0.5f});
  expect_close(log_softmax(x), {std::log(0.25f), std::log(0.75f), std::log(0.5f), std::log(0.5f)});
}

TEST(Softmax, StableForHugeLogits) {
  Tensor x = Tensor::from_vector({1000, 1000, -1000}, {3});
  expect_close(softmax(x), {0.5f, 0.5f, 0.0f});
  const auto l = log_softmax(x).to_vector();
  EXPECT_NEAR(l[0], -std::log(2.0f), 1e-4f);  // float spacing near 1000 is 6e-5
  EXPECT_TRUE(std::isfinite(l[2]));
}

SY_GRADCHECK_CASE("softmax", softmax) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({3, 5})};
  spec.fn = [](const std::vector<Tensor>& x) { return softmax(x[0]); };
  return spec;
}

SY_GRADCHECK_CASE("log_softmax", log_softmax) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({3, 5})};
  spec.fn = [](const std::vector<Tensor>& x) { return log_softmax(x[0]); };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
