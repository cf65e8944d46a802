// Gradient-ready hooks (Tensor::set_grad_ready_hook, run by run_backward): once per backward per
// leaf the pass reaches, after the leaf's gradient for that pass is complete, and as soon as it is.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/autograd/engine.h"
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

// What a hook saw: how often it ran, and grad() of its tensor at each call (empty if undefined).
struct HookLog {
  int calls = 0;
  std::vector<std::vector<float>> grads;
};

void watch(Tensor& t, HookLog& log) {
  t.set_grad_ready_hook([&log, impl = t.impl()] {
    ++log.calls;
    const Tensor& g = impl->grad;
    log.grads.push_back(g.defined() ? g.to_vector() : std::vector<float>{});
  });
}

TEST(GradReadyHook, LeafUsedByTwoOpsSeesTheSummedGradientOnce) {
  // x feeds a deep chain (its edge is processed last) and a late sum (its edge is processed
  // first): a hook fired on the first edge would see only the late sum's gradient.
  Tensor x = leaf({1, 2}, {2});
  HookLog log;
  watch(x, log);
  Tensor h = x;
  for (int i = 0; i < 5; ++i) h = scale(h, 2.0f);  // 32 x
  Tensor y = add(sum(mul(h, h)), sum(x));          // d/dx = 2 * 32^2 x + 1
  y.backward();
  ASSERT_EQ(log.calls, 1);
  EXPECT_EQ(log.grads[0], (std::vector<float>{2049, 4097}));
  EXPECT_EQ(x.grad().to_vector(), log.grads[0]);
}

TEST(GradReadyHook, LeafUsedTwiceByOneOpFiresOnce) {
  Tensor x = leaf({1, 2, 3}, {3});
  HookLog log;
  watch(x, log);
  sum(mul(x, x)).backward();
  ASSERT_EQ(log.calls, 1);
  EXPECT_EQ(log.grads[0], (std::vector<float>{2, 4, 6}));
}

TEST(GradReadyHook, NeverForLeavesTheBackwardDoesNotReach) {
  Tensor x = leaf({1, 2}, {2}), unused = leaf({3}, {1}), other = leaf({4}, {1});
  HookLog log_unused, log_other;
  watch(unused, log_unused);
  watch(other, log_other);
  Tensor other_graph = sum(scale(other, 2.0f));  // a separate graph that is never run
  sum(scale(x, 3.0f)).backward();
  EXPECT_EQ(log_unused.calls, 0);
  EXPECT_EQ(log_other.calls, 0);
  EXPECT_FALSE(other.grad().defined());
}

TEST(GradReadyHook, FiresBeforeTheEarlierLayersRun) {
  // y = sum((x W1^T) W2^T): backward finishes W2 first. Its hook runs while W1 has no gradient
  // yet, which is what lets a data-parallel reducer overlap communication with backward.
  Tensor x = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  Tensor w1 = leaf({1, 0, 0, 1}, {2, 2}), w2 = leaf({1, 1, 1, 1}, {2, 2});
  bool w1_done_when_w2_ready = true;
  HookLog log1;
  watch(w1, log1);
  w2.set_grad_ready_hook([&] { w1_done_when_w2_ready = w1.grad().defined(); });
  sum(matmul(matmul(x, w1, false, true), w2, false, true)).backward();
  EXPECT_FALSE(w1_done_when_w2_ready);
  EXPECT_EQ(log1.calls, 1);
}

TEST(GradReadyHook, OncePerBackwardAndSeesTheAccumulatedGradient) {
  Tensor x = leaf({1, 2}, {2});
  HookLog log;
  watch(x, log);
  sum(scale(x, 2.0f)).backward();
  sum(scale(x, 5.0f)).backward();
  ASSERT_EQ(log.calls, 2);
  EXPECT_EQ(log.grads[0], (std::vector<float>{2, 2}));
  EXPECT_EQ(log.grads[1], (std::vector<float>{7, 7}));
}

TEST(GradReadyHook, RootThatIsALeaf) {
  Tensor x = leaf({1, 2}, {2});
  HookLog log;
  watch(x, log);
  x.backward(Tensor::from_vector({3, 4}, {2}));
  ASSERT_EQ(log.calls, 1);
  EXPECT_EQ(log.grads[0], (std::vector<float>{3, 4}));
}

TEST(GradReadyHook, FiresWhenTheOnlyEdgeCarriesNoGradient) {
  // An op whose backward gives x no gradient (an existing op's OpInfo, so that no op is added
  // to the registry): x's edge is processed without a gradient, and its hook still runs once.
  const OpInfo* op = nullptr;
  for (const OpInfo* o : registered_ops()) {
    if (o->name() == "scale") op = o;
  }
  ASSERT_NE(op, nullptr);
  Tensor x = leaf({1, 2}, {2}), w = leaf({1, 1}, {2});
  HookLog log_x, log_w;
  watch(x, log_x);
  watch(w, log_w);
  Tensor no_grad_out = record(*op, Tensor::zeros({2}), {x},
                              [](const Tensor&) { return std::vector<Tensor>{Tensor()}; });
  sum(add(no_grad_out, w)).backward();
  ASSERT_EQ(log_x.calls, 1);
  EXPECT_TRUE(log_x.grads[0].empty());  // undefined gradient at the hook
  EXPECT_FALSE(x.grad().defined());
  ASSERT_EQ(log_w.calls, 1);
  EXPECT_EQ(log_w.grads[0], (std::vector<float>{1, 1}));
}

TEST(GradReadyHook, RunsWithGradModeOffAndMayRemoveItself) {
  Tensor x = leaf({1, 2}, {2});
  int calls = 0;
  bool grad_mode = true;
  x.set_grad_ready_hook([&] {
    ++calls;
    grad_mode = GradMode::is_enabled();
    x.set_grad_ready_hook(nullptr);  // safe: the engine runs a copy
  });
  sum(scale(x, 2.0f)).backward();
  sum(scale(x, 2.0f)).backward();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(grad_mode);
  EXPECT_FALSE(x.has_grad_ready_hook());
}

TEST(GradReadyHook, ReachableLeavesAreTheLeavesWhoseHooksRun) {
  Tensor a = leaf({1, 2}, {2}), b = leaf({3, 4}, {2}), unused = leaf({5}, {1});
  Tensor c = Tensor::from_vector({1, 1}, {2});  // no grad: not a graph leaf
  Tensor y = add(sum(mul(a, a)), sum(mul(scale(a, 2.0f), add(b, c))));
  std::vector<TensorImpl*> leaves = reachable_leaves(y);
  std::sort(leaves.begin(), leaves.end());
  std::vector<TensorImpl*> want = {a.impl(), b.impl()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(leaves, want);           // each once, though a is used three times
  EXPECT_FALSE(a.grad().defined());  // nothing ran
  EXPECT_EQ(reachable_leaves(unused), std::vector<TensorImpl*>{unused.impl()});
  EXPECT_THROW(reachable_leaves(c), Error);
}

TEST(GradReadyHook, OnlyOnLeaves) {
  Tensor x = leaf({1, 2}, {2});
  Tensor y = scale(x, 2.0f);
  EXPECT_THROW(y.set_grad_ready_hook([] {}), Error);
  EXPECT_FALSE(x.has_grad_ready_hook());
  x.set_grad_ready_hook([] {});
  EXPECT_TRUE(x.has_grad_ready_hook());
  x.set_grad_ready_hook({});
  EXPECT_FALSE(x.has_grad_ready_hook());
}

}  // namespace
}  // namespace sy::core
