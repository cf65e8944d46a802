#include "core/nn/moe/router.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/reduce.h"
#include "core/ops/row_ops.h"
#include "core/ops/softmax.h"
#include "core/ops/topk.h"

namespace sy::core::nn {

int64_t expert_capacity(const RouterOptions& options, int64_t num_tokens) {
  if (options.capacity_factor <= 0.0f) return 0;
  const double slots = static_cast<double>(options.capacity_factor) * num_tokens * options.top_k /
                       static_cast<double>(options.num_experts);
  return static_cast<int64_t>(std::ceil(slots - 1e-9));
}

namespace {

// Marks the assignments beyond each expert's capacity as dropped.
//   probs policy:    an expert keeps its C highest-probability assignments (ties: earlier token)
//   position policy: an expert keeps its C earliest tokens
void apply_capacity(const RouterOptions& options, const std::vector<float>& slot_probs,
                    Routing& r) {
  const int64_t n_assign = static_cast<int64_t>(r.expert.size());
  std::vector<std::vector<int32_t>> by_expert(static_cast<size_t>(options.num_experts));
  for (int32_t a = 0; a < n_assign; ++a) by_expert[static_cast<size_t>(r.expert[a])].push_back(a);
  for (auto& list : by_expert) {
    if (static_cast<int64_t>(list.size()) <= r.capacity) continue;
    if (options.drop_policy == DropPolicy::kProbs) {
      std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) {
        return slot_probs[static_cast<size_t>(a)] > slot_probs[static_cast<size_t>(b)];
      });
    }  // else: already in token order
    for (size_t i = static_cast<size_t>(r.capacity); i < list.size(); ++i) {
      r.kept[static_cast<size_t>(list[i])] = 0;
      ++r.dropped;
    }
  }
}

}  // namespace

Routing route(const RouterOptions& options, const Tensor& logits, const Tensor& noise_logits,
              Rng* rng, bool training) {
  const int64_t e = options.num_experts, k = options.top_k;
  SY_CHECK(logits.ndim() == 2 && logits.dim(1) == e, "router: logits must be (N,", e, "), got ",
           logits.describe());
  SY_CHECK(k >= 1 && k <= e, "router: top_k ", k, " must be in [1, ", e, "]");
  const int64_t n = logits.dim(0);
  Routing r;

  // h = z + eps * softplus(W_noise x) while training a noisy router; p = softmax(h).
  Tensor h = logits;
  if (options.kind == RouterKind::kNoisyTopK && training) {
    SY_CHECK(noise_logits.defined() && rng != nullptr,
             "noisy router needs noise logits and an rng");
    const Tensor eps = rng->normal(logits.shape());
    h = add(logits, mul(softplus(noise_logits), eps));
  }
  r.probs = softmax(h);

  const TopK top = topk(r.probs, k);
  r.weights = options.normalize_topk ? normalize_rows(top.values) : top.values;
  r.expert = top.indices.to_int_vector();
  r.kept.assign(r.expert.size(), 1);
  r.tokens_per_expert.assign(static_cast<size_t>(e), 0);
  for (int32_t x : r.expert) ++r.tokens_per_expert[static_cast<size_t>(x)];
  r.capacity = expert_capacity(options, n);
  if (r.capacity > 0) apply_capacity(options, top.values.to_vector(), r);

  // aux = E * sum_i f_i P_i with f_i = share of assignments (before dropping), P_i = mean p_i.
  std::vector<float> f(static_cast<size_t>(e));
  for (int64_t i = 0; i < e; ++i) {
    f[static_cast<size_t>(i)] =
        n > 0 ? static_cast<float>(r.tokens_per_expert[static_cast<size_t>(i)]) /
                    static_cast<float>(n * k)
              : 0.0f;
  }
  const Tensor mean_probs = scale(sum_rows(r.probs), n > 0 ? 1.0f / static_cast<float>(n) : 0.0f);
  r.aux_loss = scale(sum(mul(mean_probs, Tensor::from_vector(f, {e}))), static_cast<float>(e));

  // z = mean over tokens of logsumexp(z)^2 on the clean logits.
  const Tensor lse = logsumexp(logits);
  r.z_loss = n > 0 ? mean(mul(lse, lse)) : scale(sum(lse), 0.0f);

  {
    NoGradGuard no_grad;
    const std::vector<float> p = r.probs.to_vector();
    double ent = 0.0;
    for (float v : p) ent -= v > 0.0f ? static_cast<double>(v) * std::log(v) : 0.0;
    r.entropy = n > 0 ? static_cast<float>(ent / static_cast<double>(n)) : 0.0f;
  }
  return r;
}

}  // namespace sy::core::nn
