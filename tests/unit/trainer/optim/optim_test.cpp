// AdamW against a hand computation, the LR schedule's shape, and global-norm clipping.
#include <gtest/gtest.h>

#include <cmath>

#include "trainer/optim/adamw.h"
#include "trainer/optim/grad_clip.h"
#include "trainer/optim/lr_schedule.h"

namespace sy::trainer {
namespace {

using core::Shape;
using core::Tensor;

core::nn::NamedParameter param(const char* name, std::vector<float> v, bool decay) {
  Tensor t = Tensor::from_vector(v, Shape{static_cast<int64_t>(v.size())});
  t.set_requires_grad(true);
  return {name, t, decay};
}

TEST(AdamW, TwoStepsMatchHandComputation) {
  auto w = param("w", {1.0f, -2.0f}, true);
  auto n = param("norm", {0.5f}, false);
  AdamWOptions o;
  o.beta1 = 0.9, o.beta2 = 0.95, o.eps = 1e-8, o.weight_decay = 0.1;
  AdamW opt({w, n}, o);
  const double lr = 0.01;
  // Reference in double.
  double p[3] = {1.0, -2.0, 0.5}, m[3] = {0, 0, 0}, v[3] = {0, 0, 0};
  const double grads[2][3] = {{0.3, -0.1, 2.0}, {-0.2, 0.4, 1.0}};
  for (int t = 1; t <= 2; ++t) {
    w.tensor.set_grad(Tensor::from_vector({float(grads[t - 1][0]), float(grads[t - 1][1])}, {2}));
    n.tensor.set_grad(Tensor::from_vector({float(grads[t - 1][2])}, {1}));
    opt.step(lr);
    for (int i = 0; i < 3; ++i) {
      const double g = grads[t - 1][i];
      if (i < 2) p[i] *= 1 - lr * 0.1;  // no decay on the norm weight
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.95 * v[i] + 0.05 * g * g;
      const double mh = m[i] / (1 - std::pow(0.9, t)), vh = v[i] / (1 - std::pow(0.95, t));
      p[i] -= lr * mh / (std::sqrt(vh) + 1e-8);
    }
  }
  EXPECT_EQ(opt.steps(), 2);
  const auto wv = w.tensor.to_vector();
  EXPECT_NEAR(wv[0], p[0], 1e-6);
  EXPECT_NEAR(wv[1], p[1], 1e-6);
  EXPECT_NEAR(n.tensor.to_vector()[0], p[2], 1e-6);
}

TEST(AdamW, MissingGradientCountsAsZero) {
  auto w = param("w", {1.0f}, false);
  AdamW opt({w}, {});
  w.tensor.set_grad(Tensor::from_vector({1.0f}, {1}));
  opt.step(0.1);
  const float after_one = w.tensor.to_vector()[0];
  w.tensor.clear_grad();
  opt.step(0.1);  // momentum alone keeps moving it
  EXPECT_LT(w.tensor.to_vector()[0], after_one);
  EXPECT_NE(opt.slots()[0].v.to_vector()[0], 0.0f);
}

TEST(LrSchedule, WarmupThenCosineToMinLr) {
  LrSchedule s{1.0, 0.1, 4, 14, LrShape::kCosine};
  EXPECT_DOUBLE_EQ(s.at(0), 0.25);
  EXPECT_DOUBLE_EQ(s.at(3), 1.0);
  EXPECT_DOUBLE_EQ(s.at(4), 1.0);     // decay starts after warmup
  EXPECT_NEAR(s.at(13), 0.1, 1e-12);  // the last step reaches min_lr
  EXPECT_NEAR(s.at(4 + 9 / 2.0), 0.55, 0.1);
  for (int64_t i = 4; i < 13; ++i) EXPECT_GE(s.at(i), s.at(i + 1));
  LrSchedule c{0.5, 0.0, 2, 10, LrShape::kConstant};
  EXPECT_DOUBLE_EQ(c.at(0), 0.25);
  EXPECT_DOUBLE_EQ(c.at(9), 0.5);
}

TEST(GradClip, GlobalNormAndScaling) {
  auto a = param("a", {0, 0}, true), b = param("b", {0}, true), c = param("c", {1}, true);
  a.tensor.set_grad(Tensor::from_vector({3, 0}, {2}));
  b.tensor.set_grad(Tensor::from_vector({4}, {1}));
  // c has no gradient: it counts as zero.
  EXPECT_DOUBLE_EQ(global_grad_norm({a, b, c}), 5.0);
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b, c}, 10.0), 5.0);  // below the limit: untouched
  EXPECT_FLOAT_EQ(a.tensor.grad().to_vector()[0], 3.0f);
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b, c}, 1.0), 5.0);
  EXPECT_NEAR(global_grad_norm({a, b, c}), 1.0, 1e-6);
  EXPECT_DOUBLE_EQ(clip_grad_norm({a, b, c}, 0.0), global_grad_norm({a, b, c}));  // disabled
}

}  // namespace
}  // namespace sy::trainer
