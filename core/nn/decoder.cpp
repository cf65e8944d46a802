#include "core/nn/decoder.h"

#include <cmath>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/ops/view_ops.h"

namespace sy::core::nn {

namespace {

AttentionOptions attention_options(const DecoderOptions& o) {
  return {o.hidden_size, o.num_heads, o.num_kv_heads, o.rope_theta};
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// splitmix64's finaliser: spreads a 64-bit value over the whole key.
uint64_t mix64(uint64_t h) {
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

// FNV-1a of a parameter name, mixed.
uint64_t name_key(const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  return mix64(h);
}

}  // namespace

DecoderLayer::DecoderLayer(const DecoderOptions& options, int64_t index)
    : index_(index),
      input_layernorm_(options.hidden_size, options.rms_norm_eps),
      post_attention_layernorm_(options.hidden_size, options.rms_norm_eps),
      self_attn_(attention_options(options)) {
  register_module("input_layernorm", &input_layernorm_);
  register_module("self_attn", &self_attn_);
  register_module("post_attention_layernorm", &post_attention_layernorm_);
  if (options.is_moe_layer(index)) {
    moe_ = std::make_unique<MoeLayer>(options.hidden_size, options.expert_intermediate_size,
                                      options.router, options.expert_shard);
    register_module("block_sparse_moe", moe_.get());
  } else {
    mlp_ = std::make_unique<SwiGLU>(options.hidden_size, options.intermediate_size,
                                    SwiGLU::dense_names());
    register_module("mlp", mlp_.get());
  }
}

Tensor DecoderLayer::forward(const Tensor& x, Rng* rng, bool training,
                             std::vector<MoeOutput>* moe_outputs) const {
  const int64_t b = x.dim(0), t = x.dim(1), d = x.dim(2);
  const Tensor h = add(x, self_attn_.forward(input_layernorm_.forward(x)));
  const Tensor n2 = reshape(post_attention_layernorm_.forward(h), {b * t, d});
  Tensor ffn;
  if (moe_) {
    Rng layer_rng;
    if (rng != nullptr) {
      layer_rng.set_state(
          {rng->state().seed ^ mix64(static_cast<uint64_t>(index_) + 1), rng->state().offset});
    }
    MoeOutput out = moe_->forward(n2, rng != nullptr ? &layer_rng : nullptr, training);
    ffn = out.y;
    if (moe_outputs) moe_outputs->push_back(std::move(out));
  } else {
    ffn = mlp_->forward(n2);
  }
  return add(h, reshape(ffn, {b, t, d}));
}

Tensor DecoderLayer::forward_cached(const Tensor& x, KvCache& cache) const {
  const int64_t t = x.dim(1), d = x.dim(2);
  const Tensor h = add(x, self_attn_.forward_cached(input_layernorm_.forward(x), cache));
  const Tensor n2 = reshape(post_attention_layernorm_.forward(h), {t, d});
  const Tensor ffn = moe_ ? moe_->forward(n2, nullptr, /*training=*/false).y : mlp_->forward(n2);
  return add(h, reshape(ffn, {1, t, d}));
}

DecoderBody::DecoderBody(const DecoderOptions& options) : layers_list_(options.first_layer) {
  SY_CHECK(options.first_layer >= 0 && options.first_layer < options.stage_end() &&
               options.stage_end() <= options.num_layers,
           "decoder: stage layers [", options.first_layer, ", ", options.stage_end(), ") of ",
           options.num_layers);
  if (options.has_embedding()) {
    embed_tokens_ = std::make_unique<Embedding>(options.vocab_size, options.hidden_size);
    register_module("embed_tokens", embed_tokens_.get());
  }
  for (int64_t l = options.first_layer; l < options.stage_end(); ++l) {
    layers_.push_back(&layers_list_.emplace_back<DecoderLayer>(options, l));
  }
  register_module("layers", &layers_list_);
  if (options.has_head()) {
    norm_ = std::make_unique<RMSNorm>(options.hidden_size, options.rms_norm_eps);
    register_module("norm", norm_.get());
  }
}

Tensor DecoderBody::forward(const Tensor& input, Rng* rng, bool training,
                            std::vector<MoeOutput>* moe) const {
  Tensor x = embed_tokens_ ? embed_tokens_->forward(input) : input;  // (B,T,D)
  for (const DecoderLayer* layer : layers_) x = layer->forward(x, rng, training, moe);
  return norm_ ? norm_->forward(x) : x;
}

Tensor DecoderBody::forward_cached(const Tensor& ids, std::vector<KvCache>& caches) const {
  SY_CHECK(embed_tokens_ && norm_, "decoder: cached decoding needs the whole model");
  SY_CHECK(caches.size() == layers_.size(), "decoder: ", caches.size(), " caches for ",
           layers_.size(), " layers");
  Tensor x = embed_tokens_->forward(ids);
  for (size_t l = 0; l < layers_.size(); ++l) x = layers_[l]->forward_cached(x, caches[l]);
  return norm_->forward(x);
}

std::vector<KvCache> DecoderBody::make_caches(int64_t capacity) const {
  std::vector<KvCache> caches;
  for (const DecoderLayer* layer : layers_) caches.push_back(layer->make_cache(capacity));
  return caches;
}

Decoder::Decoder(const DecoderOptions& options) : options_(options), model_(options) {
  SY_CHECK(options.vocab_size > 0 && options.hidden_size > 0 && options.num_layers > 0,
           "decoder: V, D and L must be positive");
  register_module("model", &model_);
  if (options.has_head()) {
    lm_head_ = std::make_unique<Linear>(options.hidden_size, options.vocab_size);
    register_module("lm_head", lm_head_.get());
  }
}

void Decoder::init(const Rng& rng, float std) {
  NoGradGuard no_grad;
  const float out_std = std / std::sqrt(2.0f * static_cast<float>(options_.num_layers));
  for (NamedParameter& p : named_parameters()) {
    Tensor& t = p.tensor;
    Rng stream(rng.state().seed ^ name_key(p.name));
    if (ends_with(p.name, "norm.weight") || ends_with(p.name, "layernorm.weight")) {
      t.fill_(1.0f);
    } else if (ends_with(p.name, ".noise.weight")) {
      t.zero_();
    } else if (ends_with(p.name, "o_proj.weight") || ends_with(p.name, "down_proj.weight") ||
               ends_with(p.name, ".w2.weight")) {
      stream.normal(t.f32(), t.numel(), 0.0f, out_std);
    } else {
      stream.normal(t.f32(), t.numel(), 0.0f, std);
    }
  }
}

void Decoder::set_expert_exchange(ExpertExchange* exchange) {
  for (DecoderLayer* layer : model_.layers()) {
    if (layer->moe() != nullptr) layer->moe()->set_exchange(exchange);
  }
}

Tensor Decoder::logits(const Tensor& ids, Rng* rng, bool training,
                       std::vector<MoeOutput>* moe) const {
  SY_CHECK(ids.ndim() == 2 && ids.dtype() == DType::kI32, "decoder: ids must be int32 (B,T), got ",
           ids.describe());
  SY_CHECK(options_.whole_model(), "decoder: logits need the whole model, not a pipeline stage");
  const Tensor h = model_.forward(ids, rng, training, moe);
  return lm_head_->forward(reshape(h, {ids.numel(), options_.hidden_size}));
}

Tensor Decoder::next_token_logits(const Tensor& ids, std::vector<KvCache>& caches) const {
  SY_CHECK(ids.ndim() == 2 && ids.dim(0) == 1 && ids.dtype() == DType::kI32,
           "decoder: cached decoding takes int32 ids (1,T), got ", ids.describe());
  NoGradGuard no_grad;
  const Tensor h = model_.forward_cached(ids, caches);  // (1,T,D)
  const int64_t t = ids.dim(1);
  const Tensor last = slice_rows(reshape(h, {t, options_.hidden_size}), t - 1, 1);
  return reshape(lm_head_->forward(last), {options_.vocab_size});
}

DecoderLoss Decoder::loss(const Tensor& ids, const Tensor& targets, Rng* rng, bool training) const {
  SY_CHECK(options_.whole_model(), "decoder: loss needs the whole model, not a pipeline stage");
  return stage_loss(ids, targets, rng, training);
}

DecoderLoss Decoder::stage_loss(const Tensor& input, const Tensor& targets, Rng* rng,
                                bool training) const {
  if (options_.has_embedding()) {
    SY_CHECK(input.ndim() == 2 && input.dtype() == DType::kI32,
             "decoder: the first stage takes int32 ids (B,T), got ", input.describe());
  } else {
    SY_CHECK(input.ndim() == 3 && input.dim(2) == options_.hidden_size,
             "decoder: a later stage takes activations (B,T,", options_.hidden_size, "), got ",
             input.describe());
  }
  std::vector<MoeOutput> moe;
  const Tensor h = model_.forward(input, rng, training, &moe);  // (B,T,D)
  DecoderLoss out;
  if (options_.has_head()) {
    const Tensor lg = lm_head_->forward(reshape(h, {targets.numel(), options_.hidden_size}));
    out.ce = cross_entropy(lg, reshape(targets, {targets.numel()}));
    out.loss = out.ce;
  } else {
    out.activation = h;
  }
  for (const MoeOutput& m : moe) {
    const Tensor share =
        add(scale(m.aux_loss, options_.aux_loss_coef), scale(m.z_loss, options_.z_loss_coef));
    out.loss = out.loss.defined() ? add(out.loss, share) : share;
    out.aux += m.stats.aux;
    out.z += m.stats.z;
    out.moe_stats.push_back(m.stats);
  }
  return out;
}

}  // namespace sy::core::nn
