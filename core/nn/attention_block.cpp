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

KvCache SelfAttention::make_cache(int64_t capacity) const {
  const Shape shape{1, capacity, options_.kv_heads, head_dim_};
  return {Tensor::zeros(shape), Tensor::zeros(shape), 0};
}

Tensor SelfAttention::forward_cached(const Tensor& x, KvCache& cache) const {
  SY_CHECK(x.ndim() == 3 && x.dim(0) == 1 && x.dim(2) == options_.hidden,
           "cached attention: x must be (1,T,", options_.hidden, "), got ", x.describe());
  const int64_t t = x.dim(1), start = cache.length, capacity = cache.k.dim(1);
  SY_REQUIRE(ErrorKind::kUsage, start + t <= capacity, "KV cache full: ", start + t,
             " positions, capacity ", capacity);
  const int64_t row = options_.kv_heads * head_dim_;
  const Tensor q = rope(reshape(q_proj_.forward(x), {1, t, options_.heads, head_dim_}),
                        options_.rope_theta, start);
  const Tensor k = rope(reshape(k_proj_.forward(x), {1, t, options_.kv_heads, head_dim_}),
                        options_.rope_theta, start);
  const Tensor v = v_proj_.forward(x);
  cache.k.alias({t * row}, start * row).copy_(k);
  cache.v.alias({t * row}, start * row).copy_(v);
  cache.length = start + t;
  const Shape seen{1, cache.length, options_.kv_heads, head_dim_};
  const Tensor o = attention(q, cache.k.alias(seen), cache.v.alias(seen));
  return o_proj_.forward(reshape(o, {1, t, options_.heads * head_dim_}));
}

}  // namespace sy::core::nn
