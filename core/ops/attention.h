// Fused causal multi-head attention with grouped-query (GQA) heads.
#pragma once

#include "core/tensor/tensor.h"

namespace sy::core {

// Causal multi-head attention with grouped-query heads, fused forward and backward.
// q (B,Tq,H,hd), k (B,Tk,Hkv,hd), v (B,Tk,Hkv,hd) -> out (B,Tq,H,hd); H % Hkv == 0; query head h
// uses kv head h / (H/Hkv). Tk >= Tq; query t sits at absolute position (Tk - Tq) + t and attends
// keys 0..(Tk - Tq + t) (so Tq == Tk is ordinary causal training, Tq < Tk is decoding with a KV
// cache). Scores are scaled by 1/sqrt(hd).
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v);

}  // namespace sy::core
