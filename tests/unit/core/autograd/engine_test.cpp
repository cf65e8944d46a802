// The reverse-mode engine: accumulation, shared subgraphs, no-grad scopes and graph release.
#include <gtest/gtest.h>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/matmul.h"
#include "core/ops/reduce.h"

namespace sy::core {
namespace {

Tensor leaf(std::vector<float> v, Shape s) {
  Tensor t = Tensor::from_vector(v, s);
  t.set_requires_grad(true);
  return t;
}

TEST(Engine, TensorUsedTwiceAccumulatesBothContributions) {
  Tensor x = leaf({1, 2, 3}, {3});
  Tensor y = sum(mul(x, x));  // d/dx sum(x^2) = 2x
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 4, 6}));
}

TEST(Engine, SharedSubgraphRunsOnceWithSummedGradient) {
  Tensor x = leaf({1, 2}, {2});
  Tensor h = scale(x, 3.0f);             // shared by both branches
  Tensor y = add(sum(h), sum(mul(h, h)));  // y = sum(3x) + sum(9x^2)
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{3 + 18 * 1, 3 + 18 * 2}));
}

TEST(Engine, LeafGradientsAccumulateAcrossBackwardCalls) {
  Tensor x = leaf({1, 2}, {2});
  sum(scale(x, 2.0f)).backward();
  sum(scale(x, 5.0f)).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{7, 7}));
  x.clear_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, GradientsOfTwoLeavesDoNotAlias) {
  // add returns the same gradient tensor for both inputs; the leaves must not share storage.
  Tensor a = leaf({1, 2}, {2}), b = leaf({3, 4}, {2});
  sum(add(a, b)).backward();
  ASSERT_FALSE(a.grad().shares_storage_with(b.grad()));
  Tensor ga = a.grad();
  ga.fill_(0.0f);
  EXPECT_EQ(b.grad().to_vector(), (std::vector<float>{1, 1}));
}

TEST(Engine, NoGradScopeRecordsNothing) {
  Tensor x = leaf({1, 2}, {2});
  {
    NoGradGuard guard;
    Tensor y = mul(x, x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE(mul(x, x).requires_grad());
}

TEST(Engine, InputsWithoutGradRecordNothing) {
  Tensor a = Tensor::from_vector({1, 2}, {2});
  Tensor y = mul(a, a);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Engine, GraphIsReleasedAfterBackward) {
  Tensor x = leaf({1, 2}, {2});
  Tensor h = mul(x, x);
  std::weak_ptr<Node> node = h.grad_fn();
  Tensor y = sum(h);
  y.backward();
  ASSERT_FALSE(node.expired());  // h still holds its node...
  EXPECT_TRUE(node.lock()->released());
  EXPECT_TRUE(node.lock()->edges().empty());  // ...but its edges and saved tensors are gone
  EXPECT_THROW(y.backward(), Error);
}

TEST(Engine, NodesAreFreedWithTheirOutputs) {
  Tensor x = leaf({1, 2}, {2});
  std::weak_ptr<Node> node;
  {
    Tensor h = mul(x, x);
    node = h.grad_fn();
    EXPECT_FALSE(node.expired());
  }
  EXPECT_TRUE(node.expired());  // no cycle keeps a dropped graph alive
}

TEST(Engine, BackwardWithExplicitGradient) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  Tensor y = scale(x, 2.0f);
  y.backward(Tensor::from_vector({1, 0, 0, 1}, {2, 2}));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{2, 0, 0, 2}));
}

TEST(Engine, BackwardRejectsBadRoots) {
  Tensor x = leaf({1, 2}, {2});
  EXPECT_THROW(scale(x, 2.0f).backward(), Error);  // not one element and no gradient given
  EXPECT_THROW(Tensor::from_vector({1}, {1}).backward(), Error);  // does not require grad
  EXPECT_THROW(scale(x, 1.0f).backward(Tensor::zeros({3})), Error);  // gradient shape
}

TEST(Engine, BranchWithoutGradientIsSkippedAndReleased) {
  Tensor x = leaf({1, 2}, {2});
  Tensor w = Tensor::from_vector({1, 1}, {2});  // no grad
  Tensor y = sum(mul(x, w));
  y.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1, 1}));
  EXPECT_FALSE(w.grad().defined());
}

TEST(Engine, DeepChainDoesNotOverflowTheStack) {
  Tensor x = leaf({1}, {1});
  Tensor h = x;
  for (int i = 0; i < 20000; ++i) h = scale(h, 1.0f);
  sum(h).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<float>{1}));
}

}  // namespace
}  // namespace sy::core
