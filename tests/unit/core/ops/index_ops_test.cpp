// embedding, index_select, index_add: values, range errors, gradient checks.
#include "core/ops/index_ops.h"

#include "core/common/error.h"
#include "tests/unit/core/gradcheck/gradcheck.h"
#include "tests/unit/core/ops/test_util.h"

namespace sy::core::testing {
namespace {

const Tensor kTable = Tensor::from_vector({0, 1, 10, 11, 20, 21}, {3, 2});

TEST(IndexOps, EmbeddingKeepsIdShape) {
  Tensor out = embedding(kTable, Tensor::from_ints({2, 0, 2, 1}, {2, 2}));
  ASSERT_EQ(out.shape(), (Shape{2, 2, 2}));
  expect_close(out, {20, 21, 0, 1, 20, 21, 10, 11});
}

TEST(IndexOps, EmbeddingGradientSumsRepeatedIds) {
  Tensor w = kTable.clone();
  w.set_requires_grad(true);
  Tensor out = embedding(w, Tensor::from_ints({2, 2, 0}, {3}));
  out.backward(Tensor::full(out.shape(), 1.0f));
  expect_close(w.grad(), {1, 1, 0, 0, 2, 2});
}

TEST(IndexOps, IndexSelectAndIndexAddAreAdjoint) {
  Tensor idx = Tensor::from_ints({1, 1, 0}, {3});
  expect_close(index_select(kTable, idx), {10, 11, 10, 11, 0, 1});
  Tensor src = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {3, 2});
  expect_close(index_add(Tensor::zeros({3, 2}), idx, src), {5, 6, 4, 6, 0, 0});
}

TEST(IndexOps, ScatterAddIsDeterministicForWideRows) {
  // Many rows onto few targets with a width that spans threads' column blocks.
  Rng rng(3);
  Tensor src = rng.normal({512, 256});
  std::vector<int32_t> ids(512);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i % 3);
  Tensor idx = Tensor::from_ints(ids, {512});
  EXPECT_EQ(index_add(Tensor::zeros({3, 256}), idx, src).to_vector(),
            index_add(Tensor::zeros({3, 256}), idx, src).to_vector());
}

TEST(IndexOps, OutOfRangeIndicesAreErrors) {
  EXPECT_THROW(embedding(kTable, Tensor::from_ints({3}, {1})), Error);
  EXPECT_THROW(index_select(kTable, Tensor::from_ints({-1}, {1})), Error);
  EXPECT_THROW(index_add(kTable, Tensor::from_ints({0}, {1}), Tensor::zeros({2, 2})), Error);
}

SY_GRADCHECK_CASE("embedding", embedding) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({5, 3})};
  spec.fn = [](const std::vector<Tensor>& x) {
    return embedding(x[0], Tensor::from_ints({4, 0, 4, 2, 4, 1}, {2, 3}));
  };
  return spec;
}

SY_GRADCHECK_CASE("index_select", index_select) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({4, 3})};
  spec.fn = [](const std::vector<Tensor>& x) {
    return index_select(x[0], Tensor::from_ints({3, 3, 0, 1, 3}, {5}));
  };
  return spec;
}

SY_GRADCHECK_CASE("index_add", index_add) {
  GradcheckSpec spec;
  spec.inputs = {rng.normal({4, 3}), rng.normal({5, 3})};
  spec.fn = [](const std::vector<Tensor>& x) {
    return index_add(x[0], Tensor::from_ints({3, 3, 0, 1, 3}, {5}), x[1]);
  };
  return spec;
}

}  // namespace
}  // namespace sy::core::testing
