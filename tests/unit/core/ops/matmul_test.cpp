// matmul: values against a naive product for every transpose combination, and gradient checks.
#include "core/ops/matmul.h"

#include "core/common/error.h"
#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

// Naive C = op(A) op(B) for one matrix, A stored (ra,ca), B stored (rb,cb).
std::vector<float> naive(const std::vector<float>& a, int64_t ra, int64_t ca, bool ta,
                         const std::vector<float>& b, int64_t rb, int64_t cb, bool tb) {
  const int64_t m = ta ? ca : ra, k = ta ? ra : ca, n = tb ? rb : cb;
  std::vector<float> c(static_cast<size_t>(m * n), 0.0f);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) {
        const float av = ta ? a[p * ca + i] : a[i * ca + p];
        const float bv = tb ? b[j * cb + p] : b[p * cb + j];
        s += static_cast<double>(av) * bv;
      }
      c[i * n + j] = static_cast<float>(s);
    }
  return c;
}

class MatmulTranspose : public ::testing::TestWithParam<std::pair<bool, bool>> {};

TEST_P(MatmulTranspose, MatchesNaiveProduct) {
  const auto [ta, tb] = GetParam();
  Rng rng(7);
  const int64_t m = 5, k = 7, n = 3;
  Tensor a = ta ? rng.normal({k, m}) : rng.normal({m, k});
  Tensor b = tb ? rng.normal({n, k}) : rng.normal({k, n});
  Tensor c = matmul(a, b, ta, tb);
  ASSERT_EQ(c.shape(), (Shape{m, n}));
  expect_close(c,
               naive(a.to_vector(), a.dim(0), a.dim(1), ta, b.to_vector(), b.dim(0), b.dim(1), tb),
               1e-5f, 1e-4f);
}

INSTANTIATE_TEST_SUITE_P(All, MatmulTranspose,
                         ::testing::Values(std::pair{false, false}, std::pair{false, true},
                                           std::pair{true, false}, std::pair{true, true}));

TEST(Matmul, FlattensLeadingDimsOfA) {
  Rng rng(3);
  Tensor x = rng.normal({2, 3, 4});  // (B,T,D)
  Tensor w = rng.normal({5, 4});     // (F,D): y = x W^T
  Tensor y = matmul(x, w, false, true);
  ASSERT_EQ(y.shape(), (Shape{2, 3, 5}));
  expect_close(y, naive(x.to_vector(), 6, 4, false, w.to_vector(), 5, 4, true), 1e-5f, 1e-4f);
}

TEST(Matmul, Batched) {
  Rng rng(4);
  Tensor a = rng.normal({3, 2, 4}), b = rng.normal({3, 4, 5});
  Tensor c = matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{3, 2, 5}));
  const auto av = a.to_vector(), bv = b.to_vector(), cv = c.to_vector();
  for (int i = 0; i < 3; ++i) {
    const auto ref = naive({av.begin() + i * 8, av.begin() + (i + 1) * 8}, 2, 4, false,
                           {bv.begin() + i * 20, bv.begin() + (i + 1) * 20}, 4, 5, false);
    expect_close(std::vector<float>(cv.begin() + i * 10, cv.begin() + (i + 1) * 10), ref, 1e-5f,
                 1e-4f);
  }
}

TEST(Matmul, EmptyInnerDimensionGivesZeros) {
  Tensor c = matmul(Tensor::zeros({2, 0}), Tensor::zeros({0, 3}));
  expect_close(c, std::vector<float>(6, 0.0f));
}

TEST(Matmul, RejectsMismatchedShapes) {
  EXPECT_THROW(matmul(Tensor::zeros({2, 3}), Tensor::zeros({4, 5})), Error);
  EXPECT_THROW(matmul(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 3, 5})), Error);
  EXPECT_THROW(matmul(Tensor::zeros({2, 2, 3}), Tensor::zeros({3, 5}), true, false), Error);
}

#define SY_MATMUL_CASE(name, ta, tb, ashape, bshape)                                   \
  SY_GRADCHECK_CASE("matmul", name) {                                                  \
    GradcheckSpec spec;                                                                \
    spec.inputs = {rng.normal(Shape ashape), rng.normal(Shape bshape)};                \
    spec.fn = [](const std::vector<Tensor>& x) { return matmul(x[0], x[1], ta, tb); }; \
    return spec;                                                                       \
  }

SY_MATMUL_CASE(matmul_nn, false, false, ({3, 4}), ({4, 2}))
SY_MATMUL_CASE(matmul_nt, false, true, ({3, 4}), ({2, 4}))
SY_MATMUL_CASE(matmul_tn, true, false, ({4, 3}), ({4, 2}))
SY_MATMUL_CASE(matmul_tt, true, true, ({4, 3}), ({2, 4}))
SY_MATMUL_CASE(matmul_flattened_linear, false, true, ({2, 3, 4}), ({5, 4}))
SY_MATMUL_CASE(matmul_batched, false, false, ({2, 3, 4}), ({2, 4, 2}))
SY_MATMUL_CASE(matmul_batched_tt, true, true, ({2, 4, 3}), ({2, 2, 4}))

}  // namespace
}  // namespace sy::core::testing
