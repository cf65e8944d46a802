#include "trainer/optim/grad_clip.h"

#include <cmath>

namespace sy::trainer {

double grad_square_sum(const std::vector<core::nn::NamedParameter>& params) {
  double total = 0.0;
  for (const auto& p : params) {
    const core::Tensor& g = p.tensor.grad();
    if (!g.defined()) continue;
    const float* x = g.f32();
    double s = 0.0;
    for (int64_t i = 0, n = g.numel(); i < n; ++i) s += static_cast<double>(x[i]) * x[i];
    total += s;
  }
  return total;
}

double global_grad_norm(const std::vector<core::nn::NamedParameter>& params) {
  return std::sqrt(grad_square_sum(params));
}

void clip_grads_to_norm(const std::vector<core::nn::NamedParameter>& params, double norm,
                        double max_norm) {
  if (max_norm <= 0.0 || norm <= max_norm) return;
  const float coef = static_cast<float>(max_norm / (norm + 1e-6));
  for (const auto& p : params) {
    const core::Tensor& g = p.tensor.grad();
    if (!g.defined()) continue;
    float* x = g.f32();
    for (int64_t i = 0, n = g.numel(); i < n; ++i) x[i] *= coef;
  }
}

double clip_grad_norm(const std::vector<core::nn::NamedParameter>& params, double max_norm) {
  const double norm = global_grad_norm(params);
  clip_grads_to_norm(params, norm, max_norm);
  return norm;
}

}  // namespace sy::trainer
