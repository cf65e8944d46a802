#include "core/nn/attention_block.h"

#include "core/common/error.h"
#include "core/ops/attention.h"
#include "core/ops/rope.h"
#include "core/ops/view_ops.h"

namespace sy::core::nn {

SelfAttention::SelfAttention(const AttentionOptions& options)
    : options_(options),
      head_dim_(options.heads > 0 ? options.hidden / options.heads : 0),
      q_proj_(options.hidden, options.heads * head_dim_),
      k_proj_(options.hidden, options.kv_heads * head_dim_),
      v_proj_(options.hidden, options.kv_heads * head_dim_),
      o_proj_(options.heads * head_dim_, options.hidden) {
  SY_CHECK(options.heads > 0 && options.kv_heads > 0 && options.heads % options.kv_heads == 0 &&
               options.hidden % options.heads == 0,
           "attention: D=", options.hidden, " H=", options.heads, " Hkv=", options.kv_heads);
  register_module("q_proj", &q_proj_);
  register_module("k_proj", &k_proj_);
  register_module("v_proj", &v_proj_);
  register_module("o_proj", &o_proj_);
}

Tensor SelfAttention::forward(const Tensor& x, int64_t start_pos) const {
  SY_CHECK(x.ndim() == 3 && x.dim(2) == options_.hidden, "attention: x must be (B,T,",
           options_.hidden, "), got ", x.describe());
  const int64_t b = x.dim(0), t = x.dim(1);
  const Tensor q = reshape(q_proj_.forward(x), {b, t, options_.heads, head_dim_});
  const Tensor k = reshape(k_proj_.forward(x), {b, t, options_.kv_heads, head_dim_});
  const Tensor v = reshape(v_proj_.forward(x), {b, t, options_.kv_heads, head_dim_});
  const Tensor o = attention(rope(q, options_.rope_theta, start_pos),
                             rope(k, options_.rope_theta, start_pos), v);
  return o_proj_.forward(reshape(o, {b, t, options_.heads * head_dim_}));
}

}  // namespace sy::core::nn
