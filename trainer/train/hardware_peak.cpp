#include "trainer/train/hardware_peak.h"

#include <algorithm>
#include <chrono>

#include "core/autograd/grad_mode.h"
#include "core/ops/matmul.h"
#include "core/tensor/rng.h"

namespace sy::trainer {

double measure_matmul_peak_flops() {
  constexpr int64_t kN = 1024;
  core::NoGradGuard no_grad;
  core::Rng rng(0);
  const core::Tensor a = rng.normal({kN, kN}), b = rng.normal({kN, kN});
  core::matmul(a, b);  // warm-up: thread pool, caches
  double best = 1e30;
  for (int i = 0; i < 6; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    core::matmul(a, b);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 2.0 * kN * kN * kN / best;
}

}  // namespace sy::trainer
