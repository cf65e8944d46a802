// Grouped-query self-attention with RoPE: the attention half of a decoder layer.
#pragma once

#include "core/nn/layers.h"

namespace sy::core::nn {

struct AttentionOptions {
  int64_t hidden = 0;    // D
  int64_t heads = 0;     // H
  int64_t kv_heads = 0;  // Hkv, H % Hkv == 0
  float rope_theta = 10000.0f;
};

// Keys and values of the positions seen so far, for decoding one token at a time.
// k, v (1, capacity, Hkv, hd); positions [0, length) are filled.
struct KvCache {
  Tensor k, v;
  int64_t length = 0;
};

// o_proj(attention(rope(q_proj x), rope(k_proj x), v_proj x)).
// q_proj (H*hd,D), k_proj v_proj (Hkv*hd,D), o_proj (D,H*hd); x (B,T,D) -> (B,T,D).
class SelfAttention : public Module {
 public:
  explicit SelfAttention(const AttentionOptions& options);
  // start_pos: the absolute position of x's first token.
  Tensor forward(const Tensor& x, int64_t start_pos = 0) const;
  // Inference with a cache (batch 1, no autograd): x (1,T,D) at positions [cache.length,
  // cache.length + T) attends to everything cached so far plus itself; appends its keys/values.
  Tensor forward_cached(const Tensor& x, KvCache& cache) const;
  KvCache make_cache(int64_t capacity) const;

 private:
  AttentionOptions options_;
  int64_t head_dim_;
  Linear q_proj_, k_proj_, v_proj_, o_proj_;
};

}  // namespace sy::core::nn
