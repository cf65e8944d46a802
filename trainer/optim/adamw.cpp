#include "trainer/optim/adamw.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/backends/cpu/parallel_for.h"
#include "core/common/error.h"

namespace sy::trainer {

AdamW::AdamW(std::vector<core::nn::NamedParameter> params, const AdamWOptions& options)
    : options_(options) {
  for (auto& p : params) {
    SY_CHECK(p.tensor.is_cpu(), "AdamW: parameter ", p.name, " is not on the CPU");
    slots_.push_back(
        {p, core::Tensor::zeros(p.tensor.shape()), core::Tensor::zeros(p.tensor.shape())});
  }
}

void AdamW::step(double lr) {
  core::NoGradGuard no_grad;
  ++step_;
  const double b1 = options_.beta1, b2 = options_.beta2;
  const double bc1 = 1.0 - std::pow(b1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(b2, static_cast<double>(step_));
  const float step_size = static_cast<float>(lr / bc1);
  const float inv_sqrt_bc2 = static_cast<float>(1.0 / std::sqrt(bc2));
  const float eps = static_cast<float>(options_.eps);
  const float fb1 = static_cast<float>(b1), fb2 = static_cast<float>(b2);
  for (Slot& s : slots_) {
    float* p = s.param.tensor.f32();
    float* m = s.m.f32();
    float* v = s.v.f32();
    const int64_t n = s.param.tensor.numel();
    const float decay =
        s.param.weight_decay ? static_cast<float>(1.0 - lr * options_.weight_decay) : 1.0f;
    const core::Tensor& grad = s.param.tensor.grad();
    const float* g = grad.defined() ? grad.f32() : nullptr;
#pragma omp parallel for simd schedule(static) if (n > core::cpu::kParallelGrain)
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g ? g[i] : 0.0f;
      p[i] *= decay;
      m[i] = fb1 * m[i] + (1.0f - fb1) * gi;
      v[i] = fb2 * v[i] + (1.0f - fb2) * gi * gi;
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  }
}

}  // namespace sy::trainer
