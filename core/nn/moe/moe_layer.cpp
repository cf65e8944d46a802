#include "core/nn/moe/moe_layer.h"

#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_ops.h"
#include "core/ops/view_ops.h"

namespace sy::core::nn {

MoeLayer::MoeLayer(int64_t hidden, int64_t expert_hidden, const RouterOptions& options,
                   const ExpertShard& shard)
    : options_(options),
      shard_(shard.count < 0 ? ExpertShard{0, options.num_experts} : shard),
      gate_(hidden, options.num_experts),
      experts_list_(shard_.first) {
  SY_CHECK(options.num_experts >= 1 && options.top_k >= 1 && options.top_k <= options.num_experts,
           "MoE: top_k ", options.top_k, " with ", options.num_experts, " experts");
  SY_CHECK(
      shard_.first >= 0 && shard_.count >= 1 && shard_.first + shard_.count <= options.num_experts,
      "MoE: expert shard [", shard_.first, ", ", shard_.first + shard_.count, ") of ",
      options.num_experts, " experts");
  register_module("gate", &gate_);
  if (options.kind == RouterKind::kNoisyTopK) {
    noise_ = std::make_unique<Linear>(hidden, options.num_experts);
    register_module("noise", noise_.get());
  }
  for (int64_t e = 0; e < shard_.count; ++e) {
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
  if (m > 0 || exchange_ != nullptr) {
    // 3. Experts on their contiguous groups (xs rows [offsets[e], offsets[e+1])), here or, through
    //    the exchange, on the ranks that hold them. Every rank of an exchange takes part in it,
    //    even with no rows to send.
    const Tensor tokens = Tensor::from_ints(perm_token, {m});
    const Tensor xs = index_select(x, tokens);  // (M,D)
    std::vector<int64_t> counts(static_cast<size_t>(e_count));
    for (int64_t e = 0; e < e_count; ++e) counts[e] = offsets[e + 1] - offsets[e];
    Tensor ys;
    if (exchange_ != nullptr) {
      std::vector<int64_t> local_counts;
      const Tensor xr = exchange_->dispatch(xs, counts, &local_counts);  // (R,D)
      ys = exchange_->combine(run_local_experts(xr, local_counts));
    } else {
      SY_CHECK(shard_.holds_all(e_count), "MoE: this layer holds experts [", shard_.first, ", ",
               shard_.first + shard_.count, ") of ", e_count, " but has no expert exchange");
      ys = run_local_experts(xs, counts);
    }
    // 4. Weight each row by its slot's routing weight and scatter-add back to its token.
    const Tensor w =
        index_select(reshape(r.weights, {n * k, 1}), Tensor::from_ints(perm_slot, {m}));
    y = index_add(y, tokens, mul(ys, w));
  }
  out.y = y;
  return out;
}

Tensor MoeLayer::run_local_experts(const Tensor& xs, const std::vector<int64_t>& counts) const {
  SY_CHECK(static_cast<int64_t>(counts.size()) == shard_.count, "MoE: ", counts.size(),
           " row groups for ", shard_.count, " local experts");
  std::vector<Tensor> outputs;
  int64_t at = 0;
  for (size_t e = 0; e < counts.size(); ++e) {
    if (counts[e] == 0) continue;  // an expert with no tokens does no work
    outputs.push_back(experts_[e]->forward(slice_rows(xs, at, counts[e])));
    at += counts[e];
  }
  SY_CHECK(at == xs.dim(0), "MoE: row groups cover ", at, " of ", xs.dim(0), " rows");
  // With no rows at all, xs itself (0,D) stands in for the outputs: it keeps the exchange's
  // backward connected, so every rank still takes part in the reverse exchange.
  if (outputs.empty()) return xs;
  return outputs.size() == 1 ? outputs[0] : concat_rows(outputs);
}

}  // namespace sy::core::nn
