// Elementwise ops: values for each broadcast kind, and gradient checks.
#include "core/ops/elementwise.h"

#include <cmath>

#include "core/common/error.h"
#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

const Tensor kA = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});

TEST(Elementwise, AddSameShape) { expect_close(add(kA, kA), {2, 4, 6, 8, 10, 12}); }

TEST(Elementwise, RowBroadcast) {
  expect_close(add(kA, Tensor::from_vector({10, 20, 30}, {3})), {11, 22, 33, 14, 25, 36});
  expect_close(mul(kA, Tensor::from_vector({1, 0, -1}, {3})), {1, 0, -3, 4, 0, -6});
}

TEST(Elementwise, ColumnBroadcast) {
  expect_close(mul(kA, Tensor::from_vector({2, -1}, {2, 1})), {2, 4, 6, -4, -5, -6});
  expect_close(sub(kA, Tensor::from_vector({1, 4}, {2, 1})), {0, 1, 2, 0, 1, 2});
}

TEST(Elementwise, ScalarBroadcastAndScale) {
  expect_close(sub(kA, Tensor::scalar(1)), {0, 1, 2, 3, 4, 5});
  expect_close(scale(kA, 0.5f), {0.5f, 1, 1.5f, 2, 2.5f, 3});
}

TEST(Elementwise, SiluAndSwiglu) {
  const auto silu_ref = [](float x) { return x / (1.0f + std::exp(-x)); };
  Tensor x = Tensor::from_vector({-2, 0, 3}, {3});
  expect_close(silu(x), {silu_ref(-2), 0, silu_ref(3)});
  Tensor up = Tensor::from_vector({2, 5, -1}, {3});
  expect_close(swiglu(x, up), {2 * silu_ref(-2), 0, -silu_ref(3)});
}

TEST(Elementwise, InPlaceAccumulation) {
  Tensor d = Tensor::from_vector({1, 1}, {2});
  add_(d, Tensor::from_vector({2, 3}, {2}));
  axpy_(d, -2.0f, Tensor::from_vector({1, 1}, {2}));
  expect_close(d, {1, 2});
}

TEST(Elementwise, RejectsIncompatibleShapes) {
  EXPECT_THROW(add(kA, Tensor::zeros({2})), Error);
  EXPECT_THROW(mul(kA, Tensor::zeros({3, 2})), Error);
  EXPECT_THROW(swiglu(kA, Tensor::zeros({3, 2})), Error);
  EXPECT_THROW(add(kA, Tensor::zeros({2, 3}, DType::kI32)), Error);
}

Tensor input(Rng& rng, Shape s) { return rng.normal(s); }

SY_GRADCHECK_CASE("add", add_same_row_column_scalar) {
  GradcheckSpec spec;
  spec.inputs = {input(rng, {3, 4}), input(rng, {3, 4}), input(rng, {4}), input(rng, {3, 1}),
                 input(rng, {1})};
  spec.fn = [](const std::vector<Tensor>& x) {
    return add(add(add(add(x[0], x[1]), x[2]), x[3]), x[4]);
  };
  return spec;
}

SY_GRADCHECK_CASE("sub", sub_same_row_column_scalar) {
  GradcheckSpec spec;
  spec.inputs = {input(rng, {3, 4}), input(rng, {3, 4}), input(rng, {4}), input(rng, {3, 1}),
                 input(rng, {1})};
  spec.fn = [](const std::vector<Tensor>& x) {
    return sub(sub(sub(sub(x[0], x[1]), x[2]), x[3]), x[4]);
  };
  return spec;
}

SY_GRADCHECK_CASE("mul", mul_same_row_column_scalar) {
  GradcheckSpec spec;
  spec.inputs = {input(rng, {2, 3, 4}), input(rng, {2, 3, 4}), input(rng, {3, 4}),
                 input(rng, {2, 3, 1}), input(rng, {1})};
  spec.fn = [](const std::vector<Tensor>& x) {
    return mul(mul(mul(mul(x[0], x[1]), x[2]), x[3]), x[4]);
  };
  return spec;
}

SY_GRADCHECK_CASE("mul", mul_square_same_tensor) {
  GradcheckSpec spec;
  spec.inputs = {input(rng, {5})};
  spec.fn = [](const std::vector<Tensor>& x) { return mul(x[0], x[0]); };
  return spec;
}

SY_GRADCHECK_CASE("scale", scale) {
  GradcheckSpec spec;
  spec.inputs = {input(rng, {3, 4})};
  spec.fn = [](const std::vector<Tensor>& x) { return scale(x[0], -1.7f); };
  return spec;
}

SY_GRADCHECK_CASE("silu", silu) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({3, 5}, 0.0f, 2.0f)};
  spec.fn = [](const std::vector<Tensor>& x) { return silu(x[0]); };
  return spec;
}

SY_GRADCHECK_CASE("swiglu", swiglu) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({3, 5}, 0.0f, 2.0f), input(rng, {3, 5})};
  spec.fn = [](const std::vector<Tensor>& x) { return swiglu(x[0], x[1]); };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
