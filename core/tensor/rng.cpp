#include "core/tensor/rng.h"

#include <cmath>

#include "core/tensor/tensor.h"

namespace sy::core {

namespace {

constexpr uint32_t kMul0 = 0xD2511F53u;
constexpr uint32_t kMul1 = 0xCD9E8D57u;
constexpr uint32_t kWeyl0 = 0x9E3779B9u;
constexpr uint32_t kWeyl1 = 0xBB67AE85u;

inline void mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// Maps 32 random bits to a float in [0, 1) with 24 bits of mantissa.
inline float to_unit(uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); }

}  // namespace

std::array<uint32_t, 4> Rng::philox(const std::array<uint32_t, 4>& counter, uint64_t key) {
  uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo(kMul0, c0, &hi0, &lo0);
    mulhilo(kMul1, c2, &hi1, &lo1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {c0, c1, c2, c3};
}

void Rng::uniform(float* out, int64_t n, float low, float high) {
  const uint64_t base = state_.offset;
  const float span = high - low;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t block = 0; block < (n + 3) / 4; ++block) {
    const auto r = philox(base + static_cast<uint64_t>(block), state_.seed);
    for (int64_t lane = 0; lane < 4 && block * 4 + lane < n; ++lane) {
      out[block * 4 + lane] = low + span * to_unit(r[static_cast<size_t>(lane)]);
    }
  }
  state_.offset += static_cast<uint64_t>((n + 3) / 4);
}

void Rng::normal(float* out, int64_t n, float mean, float stddev) {
  // Box-Muller: each counter gives four uniforms, i.e. two pairs, i.e. four normals.
  const uint64_t base = state_.offset;
  constexpr float kTwoPi = 6.283185307179586f;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t block = 0; block < (n + 3) / 4; ++block) {
    const auto r = philox(base + static_cast<uint64_t>(block), state_.seed);
    float z[4];
    for (int pair = 0; pair < 2; ++pair) {
      // 1 - u lies in (0, 1], so the log is finite.
      const float u1 = 1.0f - to_unit(r[static_cast<size_t>(2 * pair)]);
      const float u2 = to_unit(r[static_cast<size_t>(2 * pair + 1)]);
      const float radius = std::sqrt(-2.0f * std::log(u1));
      z[2 * pair] = radius * std::cos(kTwoPi * u2);
      z[2 * pair + 1] = radius * std::sin(kTwoPi * u2);
    }
    for (int64_t lane = 0; lane < 4 && block * 4 + lane < n; ++lane) {
      out[block * 4 + lane] = mean + stddev * z[lane];
    }
  }
  state_.offset += static_cast<uint64_t>((n + 3) / 4);
}

Tensor Rng::uniform(const Shape& shape, float low, float high) {
  Tensor t = Tensor::empty(shape);
  uniform(t.f32(), t.numel(), low, high);
  return t;
}

Tensor Rng::normal(const Shape& shape, float mean, float stddev) {
  Tensor t = Tensor::empty(shape);
  normal(t.f32(), t.numel(), mean, stddev);
  return t;
}

}  // namespace sy::core
