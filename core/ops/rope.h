// Rotary position embeddings (RoPE), as applied to attention queries and keys.
#pragma once

#include <cstdint>

#include "core/tensor/tensor.h"

namespace sy::core {

// x (B,T,H,hd) -> (B,T,H,hd): rotary position embedding, rotate-half convention (Llama/Mixtral in
// Hugging Face): for position p = start_pos + t and pair index i < hd/2, angle = p *
// theta^(-2i/hd); (x[i], x[i+hd/2]) -> (x[i] cos - x[i+hd/2] sin, x[i+hd/2] cos + x[i] sin). hd
// must be even.
Tensor rope(const Tensor& x, float theta, int64_t start_pos = 0);

}  // namespace sy::core
