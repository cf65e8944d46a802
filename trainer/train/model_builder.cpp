#include "trainer/train/model_builder.h"

#include <vector>

namespace sy::trainer {

core::nn::DecoderOptions decoder_options(const Config& c) {
  core::nn::DecoderOptions o;
  o.vocab_size = c.model.vocab_size;
  o.hidden_size = c.model.hidden_size;
  o.num_layers = c.model.num_layers;
  o.num_heads = c.model.num_heads;
  o.num_kv_heads = c.model.num_kv_heads > 0 ? c.model.num_kv_heads : c.model.num_heads;
  o.intermediate_size = c.model.intermediate_size;
  o.rope_theta = static_cast<float>(c.model.rope_theta);
  o.rms_norm_eps = static_cast<float>(c.model.rms_norm_eps);
  o.moe_enabled = c.moe.enabled;
  o.moe_every = c.moe.every;
  o.moe_first_layer = c.moe.first_layer;
  o.expert_intermediate_size = c.expert_intermediate_size();
  o.router.num_experts = c.moe.num_experts;
  o.router.top_k = c.moe.top_k;
  o.router.normalize_topk = c.moe.normalize_topk;
  o.router.kind = c.moe.router == RouterKind::kNoisyTopk ? core::nn::RouterKind::kNoisyTopK
                                                         : core::nn::RouterKind::kSoftmax;
  o.router.capacity_factor = static_cast<float>(c.moe.capacity_factor);
  o.router.drop_policy = c.moe.drop_policy == DropPolicy::kPosition
                             ? core::nn::DropPolicy::kPosition
                             : core::nn::DropPolicy::kProbs;
  o.aux_loss_coef = static_cast<float>(c.moe.aux_loss_coef);
  o.z_loss_coef = static_cast<float>(c.moe.z_loss_coef);
  return o;
}

ParameterCounts count_parameters(const Config& c) {
  return count_stage_parameters(c, 0, c.model.num_layers);
}

namespace {

// One decoder layer's parameters (no embedding, norm or head).
ParameterCounts layer_parameters(const Config& c, int64_t layer) {
  const int64_t d = c.model.hidden_size, h = c.model.num_heads;
  const int64_t hkv = c.model.num_kv_heads > 0 ? c.model.num_kv_heads : h;
  const int64_t hd = d / h;
  const int64_t attention = d * h * hd * 2 + d * hkv * hd * 2;  // q, o and k, v
  const int64_t norms = 2 * d;
  const int64_t dense_ffn = 3 * d * c.model.intermediate_size;
  const int64_t expert = 3 * d * c.expert_intermediate_size();
  const int64_t router = d * c.moe.num_experts * (c.moe.router == RouterKind::kNoisyTopk ? 2 : 1);
  ParameterCounts n;
  if (c.is_moe_layer(static_cast<int>(layer))) {
    n.experts = c.moe.num_experts * expert;
    n.total = attention + norms + router + n.experts;
    n.active = attention + norms + d * c.moe.num_experts + c.moe.top_k * expert;
  } else {
    n.total = n.active = attention + norms + dense_ffn;
  }
  return n;
}

// Causal attention's score and value products per token and layer, forward and backward.
double attention_flops_per_token(const Config& c) {
  return 6.0 * static_cast<double>(c.train.seq_len) * c.model.hidden_size;
}

}  // namespace

ParameterCounts count_stage_parameters(const Config& c, int64_t first, int64_t end) {
  const int64_t d = c.model.hidden_size, v = c.model.vocab_size;
  ParameterCounts n;
  for (int64_t l = first; l < end; ++l) {
    const ParameterCounts layer = layer_parameters(c, l);
    n.total += layer.total;
    n.active += layer.active;
    n.experts += layer.experts;
  }
  if (first == 0) n.total += v * d;  // embeddings (a lookup: not active compute)
  if (end == c.model.num_layers) {
    n.total += v * d + d;  // head, final norm
    n.active += v * d + d;
  }
  return n;
}

parallel::StagePartition stage_partition(const Config& c) {
  if (!c.parallel.stage_layers.empty()) {
    return parallel::parse_stage_layers(c.parallel.stage_layers, c.parallel.pp, c.model.num_layers,
                                        "parallel.stage_layers");
  }
  // Per layer and token: 6 x its active parameters, plus causal attention; the head's on the last.
  std::vector<double> costs;
  for (int64_t l = 0; l < c.model.num_layers; ++l) {
    costs.push_back(6.0 * static_cast<double>(layer_parameters(c, l).active) +
                    attention_flops_per_token(c));
  }
  const double head = 6.0 * static_cast<double>(c.model.vocab_size) * c.model.hidden_size;
  return parallel::balance_stages(costs, c.parallel.pp, 0.0, head);
}

double training_flops_per_token(const Config& c) {
  return 6.0 * static_cast<double>(count_parameters(c).active) +
         c.model.num_layers * attention_flops_per_token(c);
}

}  // namespace sy::trainer
