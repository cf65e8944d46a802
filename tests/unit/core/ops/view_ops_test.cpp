// reshape, slice_rows, transpose, concat_rows: views share storage, values, gradient checks.
#include "core/ops/view_ops.h"

#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

TEST(ViewOps, ReshapeIsAViewAndInfersOneDim) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor y = reshape(x, {3, -1});
  EXPECT_EQ(y.shape(), (Shape{3, 2}));
  EXPECT_TRUE(y.shares_storage_with(x));
  EXPECT_THROW(reshape(x, {4, -1}), Error);
  EXPECT_THROW(reshape(x, {-1, -1}), Error);
  EXPECT_THROW(reshape(x, {7}), Error);
}

TEST(ViewOps, SliceRowsIsAView) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor s = slice_rows(x, 1, 2);
  EXPECT_TRUE(s.shares_storage_with(x));
  expect_close(s, {3, 4, 5, 6});
  EXPECT_THROW(slice_rows(x, 2, 2), Error);
  EXPECT_THROW(slice_rows(x, -1, 1), Error);
}

TEST(ViewOps, TransposeMiddleDims) {
  // (B,T,H,hd) -> (B,H,T,hd), the attention layout change.
  std::vector<float> v(2 * 3 * 4 * 2);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  Tensor x = Tensor::from_vector(v, {2, 3, 4, 2});
  Tensor y = transpose(x, 1, 2);
  ASSERT_EQ(y.shape(), (Shape{2, 4, 3, 2}));
  const auto yv = y.to_vector();
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 3; ++t)
      for (int h = 0; h < 4; ++h)
        for (int e = 0; e < 2; ++e)
          EXPECT_EQ(yv[((b * 4 + h) * 3 + t) * 2 + e], v[((b * 3 + t) * 4 + h) * 2 + e]);
  expect_close(transpose(y, -3, -2), v);
}

TEST(ViewOps, ConcatRows) {
  Tensor a = Tensor::from_vector({1, 2}, {1, 2}), b = Tensor::from_vector({3, 4, 5, 6}, {2, 2});
  expect_close(concat_rows({a, b}), {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(concat_rows({a, Tensor::zeros({1, 3})}), Error);
}

SY_GRADCHECK_CASE("reshape", reshape) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({2, 6})};
  // Scaling after the view makes the gradient path run through reshape's backward.
  spec.fn = [](const std::vector<Tensor>& x) { return scale(reshape(x[0], {3, 4}), 2.0f); };
  return spec;
}

SY_GRADCHECK_CASE("slice_rows", slice_rows) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({5, 3})};
  spec.fn = [](const std::vector<Tensor>& x) { return scale(slice_rows(x[0], 1, 3), 2.0f); };
  return spec;
}

SY_GRADCHECK_CASE("transpose", transpose) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({2, 3, 4, 2})};
  spec.fn = [](const std::vector<Tensor>& x) { return transpose(x[0], 1, 3); };
  return spec;
}

SY_GRADCHECK_CASE("concat_rows", concat_rows) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({1, 3}), rng.normal({2, 3})};
  spec.fn = [](const std::vector<Tensor>& x) { return concat_rows({x[0], x[1], x[0]}); };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
