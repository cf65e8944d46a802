#include "core/nn/moe/moe_layer.h"

#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_ops.h"
#include "core/ops/view_ops.h"

namespace sy::core::nn {

MoeLayer::MoeLayer(int64_t hidden, int64_t expert_hidden, const RouterOptions& options)
    : options_(options), gate_(hidden, options.num_experts) {
  SY_CHECK(options.num_experts >= 1 && options.top_k >= 1 && options.top_k <= options.num_experts,
           "MoE: top_k ", options.top_k, " with ", options.num_experts, " experts");
  register_module("gate", &gate_);
  if (options.kind == RouterKind::kNoisyTopK) {
    noise_ = std::make_unique<Linear>(hidden, options.num_experts);
    register_module("noise", noise_.get());
  }
  for (int64_t e = 0; e < options.num_experts; ++e) {
    experts_.push_back(
        &experts_list_.emplace_back<SwiGLU>(hidden, expert_hidden, SwiGLU::expert_names()));
  }
  register_module("experts", &experts_list_);
}

MoeOutput MoeLayer::forward(const Tensor& x, Rng* rng, bool training) const {
  SY_CHECK(x.ndim() == 2, "MoE: x must be (N,D), got ", x.describe());
  const int64_t n = x.dim(0), k = options_.top_k, e_count = options_.num_experts;

  // 1. Route (the router computes in float32, as everything here does).
  const Tensor logits = gate_.forward(x);
  const Tensor noise_logits = noise_ ? noise_->forward(x) : Tensor();
  Routing r = route(options_, logits, noise_logits, rng, training);

  // 2. Permute the kept (token, slot) assignments into per-expert groups, stable by token:
  //    a counting sort by expert over assignments in (token, slot) order.
  std::vector<int64_t> offsets(static_cast<size_t>(e_count) + 1, 0);
  for (int64_t a = 0; a < n * k; ++a) {
    if (r.kept[static_cast<size_t>(a)]) ++offsets[static_cast<size_t>(r.expert[a]) + 1];
  }
  for (int64_t e = 0; e < e_count; ++e) offsets[e + 1] += offsets[e];
  const int64_t m = offsets[static_cast<size_t>(e_count)];
  std::vector<int32_t> perm_token(static_cast<size_t>(m)), perm_slot(static_cast<size_t>(m));
  {
    std::vector<int64_t> cursor(offsets.begin(), offsets.end() - 1);
    for (int64_t a = 0; a < n * k; ++a) {
      if (!r.kept[static_cast<size_t>(a)]) continue;
      const int64_t at = cursor[static_cast<size_t>(r.expert[a])]++;
      perm_token[static_cast<size_t>(at)] = static_cast<int32_t>(a / k);
      perm_slot[static_cast<size_t>(at)] = static_cast<int32_t>(a);
    }
  }

  MoeOutput out;
  out.stats.tokens_per_expert = r.tokens_per_expert;
  out.stats.assignments = n * k;
  out.stats.dropped = r.dropped;
  out.stats.aux = r.aux_loss.item();
  out.stats.z = r.z_loss.item();
  out.stats.entropy = r.entropy;
  out.aux_loss = r.aux_loss;
  out.z_loss = r.z_loss;

  Tensor y = Tensor::zeros(x.shape());
  if (m > 0) {
    // 3. Experts on their contiguous groups (xs rows [offsets[e], offsets[e+1])).
    const Tensor tokens = Tensor::from_ints(perm_token, {m});
    const Tensor xs = index_select(x, tokens);  // (M,D)
    std::vector<Tensor> outputs;
    for (int64_t e = 0; e < e_count; ++e) {
      const int64_t count = offsets[e + 1] - offsets[e];
      if (count == 0) continue;
      outputs.push_back(
          experts_[static_cast<size_t>(e)]->forward(slice_rows(xs, offsets[e], count)));
    }
    const Tensor ys = outputs.size() == 1 ? outputs[0] : concat_rows(outputs);  // (M,D)
    // 4. Weight each row by its slot's routing weight and scatter-add back to its token.
    const Tensor w =
        index_select(reshape(r.weights, {n * k, 1}), Tensor::from_ints(perm_slot, {m}));
    y = index_add(y, tokens, mul(ys, w));
  }
  out.y = y;
  return out;
}

}  // namespace sy::core::nn
