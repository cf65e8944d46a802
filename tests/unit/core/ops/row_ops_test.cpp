// logsumexp, normalize_rows, softplus, sum_rows: values and gradient checks.
#include "core/ops/row_ops.h"

#include <cmath>

#include "core/common/error.h"
#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

TEST(RowOps, Values) {
  Tensor x = Tensor::from_vector({0, std::log(3.0f), 1000, 1000}, {2, 2});
  expect_close(logsumexp(x), {std::log(4.0f), 1000 + std::log(2.0f)}, 1e-4f);
  expect_close(normalize_rows(Tensor::from_vector({1, 3, 2, 2}, {2, 2})),
               {0.25f, 0.75f, 0.5f, 0.5f});
  expect_close(softplus(Tensor::from_vector({0, 100, -100}, {3})), {std::log(2.0f), 100, 0}, 1e-6f);
  expect_close(sum_rows(Tensor::from_vector({1, 2, 3, 4, 5, 6}, {3, 2})), {9, 12});
  EXPECT_THROW(normalize_rows(Tensor::zeros({1, 2})), Error);
}

SY_GRADCHECK_CASE("logsumexp", logsumexp) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({3, 5})};
  spec.fn = [](const std::vector<Tensor>& x) { return logsumexp(x[0]); };
  return spec;
}

SY_GRADCHECK_CASE("normalize_rows", normalize_rows) {
  GradcheckSpec spec;
  spec.inputs = {rng.uniform({3, 4}, 0.5f, 1.5f)};
  spec.fn = [](const std::vector<Tensor>& x) { return normalize_rows(x[0]); };
  return spec;
}

SY_GRADCHECK_CASE("softplus", softplus) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({4, 3}, 0.0f, 3.0f)};
  spec.fn = [](const std::vector<Tensor>& x) { return softplus(x[0]); };
  return spec;
}

SY_GRADCHECK_CASE("sum_rows", sum_rows) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({4, 2, 3})};
  spec.fn = [](const std::vector<Tensor>& x) { return sum_rows(x[0]); };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
