// CPU kernels for fused causal grouped-query attention (FlashAttention-2 style row blocking).
//
// Layout: q, out, dout, dq (B,Tq,H,hd); k, v, dk, dv (B,Tk,Hkv,hd); lse (B,H,Tq); all contiguous
// float32. Query head h reads kv head h / (H/Hkv). Query t sits at absolute position
// (Tk - Tq) + t and attends keys 0..(Tk - Tq + t). Scores are scaled by 1/sqrt(hd).
//
// Neither pass materialises the (Tq,Tk) score matrix of more than one block of query rows per
// thread: memory is O(threads * block_rows * Tk), not O(B * H * Tq * Tk).
#pragma once

#include <cstdint>

namespace sy::core::cpu {

struct AttentionDims {
  int64_t batch = 0;     // B
  int64_t q_len = 0;     // Tq
  int64_t kv_len = 0;    // Tk >= Tq
  int64_t heads = 0;     // H
  int64_t kv_heads = 0;  // Hkv, H % Hkv == 0
  int64_t head_dim = 0;  // hd
};

// q (B,Tq,H,hd), k v (B,Tk,Hkv,hd) -> out (B,Tq,H,hd), lse (B,H,Tq): the log-sum-exp of each
// query row's scaled, masked scores (what the backward pass needs to rebuild the softmax).
void attention_forward(const AttentionDims& d, const float* q, const float* k, const float* v,
                       float* out, float* lse);

// dout (B,Tq,H,hd) -> dq (B,Tq,H,hd), dk dv (B,Tk,Hkv,hd), overwritten; q, k, v, out, lse as the
// forward pass took and produced them.
void attention_backward(const AttentionDims& d, const float* q, const float* k, const float* v,
                        const float* out, const float* lse, const float* dout, float* dq, float* dk,
                        float* dv);

}  // namespace sy::core::cpu
