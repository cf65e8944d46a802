// The Mixtral-style decoder of the model contract: embeddings, L pre-norm layers (attention, then
// a dense SwiGLU or a sparse MoE feed-forward block), a final norm and the LM head.
#pragma once

#include <memory>
#include <vector>

#include "core/nn/attention_block.h"
#include "core/nn/layers.h"
#include "core/nn/moe/moe_layer.h"

namespace sy::core::nn {

struct DecoderOptions {
  int64_t vocab_size = 0;         // V
  int64_t hidden_size = 0;        // D
  int64_t num_layers = 0;         // L
  int64_t num_heads = 0;          // H
  int64_t num_kv_heads = 0;       // Hkv
  int64_t intermediate_size = 0;  // F of dense layers
  float rope_theta = 10000.0f;
  float rms_norm_eps = 1e-5f;
  // MoE layers: l >= moe_first_layer and (l - moe_first_layer) % moe_every == 0, when moe_enabled.
  bool moe_enabled = true;
  int64_t moe_every = 1;
  int64_t moe_first_layer = 0;
  int64_t expert_intermediate_size = 0;  // F of each expert
  RouterOptions router;
  ExpertShard expert_shard;  // the experts of every MoE layer held here (default: all)
  // Pipeline stage: the layers [first_layer, last_layer) held here (last_layer -1: to the end).
  // The stage with layer 0 also holds the embedding; the one with the last layer the final norm
  // and the LM head.
  int64_t first_layer = 0;
  int64_t last_layer = -1;
  float aux_loss_coef = 0.01f;
  float z_loss_coef = 0.001f;

  bool is_moe_layer(int64_t layer) const {
    return moe_enabled && layer >= moe_first_layer && (layer - moe_first_layer) % moe_every == 0;
  }
  int64_t stage_end() const { return last_layer < 0 ? num_layers : last_layer; }
  bool has_embedding() const { return first_layer == 0; }
  bool has_head() const { return stage_end() == num_layers; }
  bool whole_model() const { return has_embedding() && has_head(); }
};

// model.layers.{l}: input_layernorm, self_attn, post_attention_layernorm, and block_sparse_moe
// (MoE layers) or mlp (dense layers).
class DecoderLayer : public Module {
 public:
  DecoderLayer(const DecoderOptions& options, int64_t index);
  // Router noise of layer l comes from its own stream (rng's seed mixed with l, rng's offset), so
  // a layer draws the same noise whichever pipeline stage it is on.
  // x (B,T,D) -> (B,T,D); an MoE layer appends its output (losses, statistics) to moe_outputs.
  Tensor forward(const Tensor& x, Rng* rng, bool training,
                 std::vector<MoeOutput>* moe_outputs) const;
  // Inference: x (1,T,D) continuing the sequence held in cache.
  Tensor forward_cached(const Tensor& x, KvCache& cache) const;
  KvCache make_cache(int64_t capacity) const { return self_attn_.make_cache(capacity); }
  MoeLayer* moe() const { return moe_.get(); }

 private:
  int64_t index_;
  RMSNorm input_layernorm_, post_attention_layernorm_;
  SelfAttention self_attn_;
  std::unique_ptr<MoeLayer> moe_;
  std::unique_ptr<SwiGLU> mlp_;
};

// The "model." subtree: embed_tokens, layers, norm (of a pipeline stage: embed_tokens on the first,
// norm on the last, the stage's layers named by their global index).
class DecoderBody : public Module {
 public:
  explicit DecoderBody(const DecoderOptions& options);
  // ids (B,T) int32 on the first stage, else the previous stage's activation (B,T,D) -> (B,T,D),
  // normalised on the last stage.
  Tensor forward(const Tensor& input, Rng* rng, bool training, std::vector<MoeOutput>* moe) const;
  Tensor forward_cached(const Tensor& ids, std::vector<KvCache>& caches) const;
  std::vector<KvCache> make_caches(int64_t capacity) const;
  const std::vector<DecoderLayer*>& layers() const { return layers_; }

 private:
  std::unique_ptr<Embedding> embed_tokens_;
  ModuleList layers_list_;
  std::vector<DecoderLayer*> layers_;
  std::unique_ptr<RMSNorm> norm_;
};

struct DecoderLoss {
  Tensor loss;                      // () ce + aux_coef * sum aux + z_coef * sum z (a stage's share:
                                    // undefined on a stage that adds nothing)
  Tensor ce;                        // () mean cross-entropy (undefined before the last stage)
  Tensor activation;                // (B,T,D) for the next pipeline stage (not on the last)
  float aux = 0.0f, z = 0.0f;       // the sums over MoE layers
  std::vector<MoeStats> moe_stats;  // one per MoE layer, in layer order
};

class Decoder : public Module {
 public:
  explicit Decoder(const DecoderOptions& options);

  // Seeded initialisation: norm weights 1, router noise weights 0, output projections (o_proj,
  // down_proj, w2) normal(0, std / sqrt(2 L)), everything else normal(0, std). Each parameter
  // draws from its own stream, keyed by rng's seed and the parameter's name, so a model holding
  // only some of the experts (or layers) gets exactly their values in the whole model.
  void init(const Rng& rng, float std);
  // Routes every MoE layer's tokens through `exchange` (not owned; null: all experts local).
  void set_expert_exchange(ExpertExchange* exchange);

  // ids (B,T) int32 -> logits (B*T,V); moe collects the MoE layers' outputs when not null.
  Tensor logits(const Tensor& ids, Rng* rng, bool training, std::vector<MoeOutput>* moe) const;
  // ids, targets (B,T) int32 -> the loss of the model contract for one micro-batch.
  DecoderLoss loss(const Tensor& ids, const Tensor& targets, Rng* rng, bool training) const;
  // A pipeline stage's part of it. input: ids (B,T) int32 on the first stage, else the previous
  // stage's activation (B,T,D); targets (B,T) are used on the last stage. loss is this stage's
  // share: aux_coef * aux + z_coef * z of its MoE layers, plus ce on the last stage, so the
  // stages' shares add up to the loss of the whole model. activation goes to the next stage.
  DecoderLoss stage_loss(const Tensor& input, const Tensor& targets, Rng* rng, bool training) const;

  // Incremental decoding (batch 1, no autograd): ids (1,T) continue the sequence in caches;
  // returns the logits of the last position (V). make_caches holds up to capacity positions.
  std::vector<KvCache> make_caches(int64_t capacity) const { return model_.make_caches(capacity); }
  Tensor next_token_logits(const Tensor& ids, std::vector<KvCache>& caches) const;

  const DecoderOptions& options() const { return options_; }

 private:
  DecoderOptions options_;
  DecoderBody model_;
  std::unique_ptr<Linear> lm_head_;
};

}  // namespace sy::core::nn
