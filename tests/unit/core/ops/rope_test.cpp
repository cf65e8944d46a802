// The rope op: hand-computed values, position offsets, norm preservation, errors and gradients.
#include "core/ops/rope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/common/error.h"
#include "core/tensor/rng.h"
#include "tests/unit/core/gradcheck/gradcheck.h"

namespace sy::core {
namespace {

TEST(Rope, MatchesHandComputedRotation) {
  // x (1,2,1,4), theta 100: pair 0 turns at 1 rad per position, pair 1 at 100^(-1/2) = 0.1.
  const Tensor x = Tensor::from_vector({1, 2, 3, 4, 1, 2, 3, 4}, Shape{1, 2, 1, 4});
  const std::vector<float> y = rope(x, 100.0f).to_vector();
  const double c1 = std::cos(1.0), s1 = std::sin(1.0), c2 = std::cos(0.1), s2 = std::sin(0.1);
  const std::vector<double> want = {1,
                                    2,
                                    3,
                                    4,  // position 0: unchanged
                                    1 * c1 - 3 * s1,
                                    2 * c2 - 4 * s2,
                                    3 * c1 + 1 * s1,
                                    4 * c2 + 2 * s2};
  ASSERT_EQ(y.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-6) << "element " << i;
}

TEST(Rope, StartPosMatchesSliceOfLongerSequence) {
  const int64_t batch = 2, seq = 12, heads = 3, hd = 8, start = 5, len = 4;
  Rng rng(7);
  const Tensor full = rng.normal(Shape{batch, seq, heads, hd});
  const std::vector<float> full_out = rope(full, 10000.0f).to_vector();
  // The rows start..start+len-1 of every sequence, rotated with start_pos = start.
  Tensor part = Tensor::empty(Shape{batch, len, heads, hd});
  const int64_t row = heads * hd;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < len * row; ++i) {
      part.f32()[b * len * row + i] = full.f32()[(b * seq + start) * row + i];
    }
  }
  const std::vector<float> part_out = rope(part, 10000.0f, start).to_vector();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < len * row; ++i) {
      EXPECT_NEAR(part_out[static_cast<size_t>(b * len * row + i)],
                  full_out[static_cast<size_t>((b * seq + start) * row + i)], 1e-6);
    }
  }
}

TEST(Rope, PreservesEachHeadVectorsNorm) {
  const int64_t hd = 16;
  Rng rng(3);
  const Tensor x = rng.normal(Shape{2, 9, 2, hd});
  const std::vector<float> in = x.to_vector();
  const std::vector<float> out = rope(x, 500.0f, 1000).to_vector();
  for (size_t v = 0; v < in.size(); v += hd) {
    double n_in = 0.0, n_out = 0.0;
    for (size_t i = v; i < v + hd; ++i) {
      n_in += static_cast<double>(in[i]) * in[i];
      n_out += static_cast<double>(out[i]) * out[i];
    }
    EXPECT_NEAR(std::sqrt(n_out), std::sqrt(n_in), 1e-5 * std::sqrt(n_in)) << "vector " << v / hd;
  }
}

TEST(Rope, RejectsBadShapes) {
  EXPECT_THROW(rope(Tensor::zeros(Shape{1, 2, 1, 3}), 10000.0f), Error);  // odd hd
  EXPECT_THROW(rope(Tensor::zeros(Shape{2, 1, 4}), 10000.0f), Error);     // not 4-D
  EXPECT_THROW(rope(Tensor::zeros(Shape{1, 2, 1, 4}), 10000.0f, -1), Error);
  EXPECT_THROW(rope(Tensor::zeros(Shape{1, 2, 1, 4}, DType::kI32), 10000.0f), Error);
}

}  // namespace

namespace testing {
namespace {

SY_GRADCHECK_CASE("rope", rope_start_pos_0) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal(Shape{2, 5, 3, 4})};
  spec.fn = [](const std::vector<Tensor>& x) { return rope(x[0], 100.0f); };
  return spec;
}

SY_GRADCHECK_CASE("rope", rope_start_pos_7) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal(Shape{2, 5, 3, 4})};
  spec.fn = [](const std::vector<Tensor>& x) { return rope(x[0], 100.0f, 7); };
  return spec;
}

}  // namespace
}  // namespace testing
}  // namespace sy::core
