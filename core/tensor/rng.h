// Reproducible random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011), a counter-based generator.
//
// Each draw of n numbers reads counters [offset, offset + ceil(n/4)) under the key `seed`, so the
// value of element i depends only on (seed, offset, i): fills are identical whatever the thread
// count or device, and the whole state is two integers that a checkpoint can save and restore.
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor/shape.h"

namespace sy::core {

class Tensor;

struct RngState {
  uint64_t seed = 0;
  uint64_t offset = 0;  // counters consumed so far
  bool operator==(const RngState& o) const { return seed == o.seed && offset == o.offset; }
};

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) : state_{seed, 0} {}

  RngState state() const { return state_; }
  void set_state(const RngState& state) { state_ = state; }

  // Fill out[0, n) and advance the counter.
  void uniform(float* out, int64_t n, float low = 0.0f, float high = 1.0f);  // [low, high)
  void normal(float* out, int64_t n, float mean = 0.0f, float stddev = 1.0f);

  // Tensor helpers (CPU, float32).
  Tensor uniform(const Shape& shape, float low = 0.0f, float high = 1.0f);
  Tensor normal(const Shape& shape, float mean = 0.0f, float stddev = 1.0f);

  // The raw generator: four 32-bit words for one 128-bit counter under a 64-bit key.
  static std::array<uint32_t, 4> philox(const std::array<uint32_t, 4>& counter, uint64_t key);
  static std::array<uint32_t, 4> philox(uint64_t counter, uint64_t key) {
    return philox({static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0, 0}, key);
  }

 private:
  RngState state_;
};

}  // namespace sy::core
