// CPU kernel for rotary position embeddings (RoPE), rotate-half convention.
#pragma once

#include <cstdint>

namespace sy::core::cpu {

// x, out (B,T,H,hd), contiguous, hd even. Row t of each sequence sits at position start_pos + t;
// pair i < hd/2 of each head rotates by angle = position * theta^(-2i/hd):
//   (x[i], x[i+hd/2]) -> (x[i] cos - x[i+hd/2] sin, x[i+hd/2] cos + x[i] sin).
// inverse rotates by -angle instead (the backward pass: a rotation's transpose is its inverse).
void rope(const float* x, float* out, int64_t batch, int64_t seq, int64_t heads, int64_t head_dim,
          float theta, int64_t start_pos, bool inverse);

}  // namespace sy::core::cpu
