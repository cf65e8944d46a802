// CPU kernel for rotary position embeddings: a cos/sin table per call, then a vectorised rotation.
#include "core/backends/cpu/rope_kernels.h"

#include <cmath>
#include <vector>

#include "core/backends/cpu/parallel_for.h"

namespace sy::core::cpu {

void rope(const float* x, float* out, int64_t batch, int64_t seq, int64_t heads, int64_t head_dim,
          float theta, int64_t start_pos, bool inverse) {
  const int64_t half = head_dim / 2;
  if (batch == 0 || seq == 0 || heads == 0 || half == 0) return;

  // Angles in double: positions reach tens of thousands, where a float product loses digits.
  std::vector<double> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    inv_freq[static_cast<size_t>(i)] = std::pow(
        static_cast<double>(theta), -2.0 * static_cast<double>(i) / static_cast<double>(head_dim));
  }
  // cos_table, sin_table (T, hd/2); sin carries the rotation's sign.
  std::vector<float> cos_table(static_cast<size_t>(seq * half));
  std::vector<float> sin_table(static_cast<size_t>(seq * half));
  const double sign = inverse ? -1.0 : 1.0;
#pragma omp parallel for schedule(static) if (seq * half > kParallelGrain / 16)
  for (int64_t t = 0; t < seq; ++t) {
    const double pos = static_cast<double>(start_pos + t);
    for (int64_t i = 0; i < half; ++i) {
      const double angle = pos * inv_freq[static_cast<size_t>(i)];
      cos_table[static_cast<size_t>(t * half + i)] = static_cast<float>(std::cos(angle));
      sin_table[static_cast<size_t>(t * half + i)] = static_cast<float>(sign * std::sin(angle));
    }
  }

  const int64_t rows = batch * seq;  // (b, t) pairs
#pragma omp parallel for schedule(static) if (rows * heads * head_dim > kParallelGrain)
  for (int64_t row = 0; row < rows; ++row) {
    const int64_t t = row % seq;
    const float* c = cos_table.data() + t * half;
    const float* s = sin_table.data() + t * half;
    for (int64_t h = 0; h < heads; ++h) {
      const float* xp = x + (row * heads + h) * head_dim;
      float* op = out + (row * heads + h) * head_dim;
#pragma omp simd
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = xp[i], x2 = xp[i + half];
        op[i] = x1 * c[i] - x2 * s[i];
        op[i + half] = x2 * c[i] + x1 * s[i];
      }
    }
  }
}

}  // namespace sy::core::cpu
