#include "trainer/generate/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/common/error.h"

namespace sy::trainer {

int32_t sample_token(const std::vector<float>& logits, const SamplingOptions& o, core::Rng& rng) {
  SY_CHECK(!logits.empty(), "sample_token: empty logits");
  const int64_t v = static_cast<int64_t>(logits.size());
  if (o.temperature <= 0.0 || o.top_k == 1) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  // Candidates by descending logit (ties: lower id first).
  std::vector<int32_t> order(static_cast<size_t>(v));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  const int64_t k = o.top_k > 0 ? std::min(o.top_k, v) : v;
  order.resize(static_cast<size_t>(k));
  std::vector<double> p(order.size());
  const double top = logits[order[0]];
  double total = 0.0;
  for (size_t i = 0; i < order.size(); ++i) {
    p[i] = std::exp((logits[order[i]] - top) / o.temperature);
    total += p[i];
  }
  // Nucleus: the shortest prefix whose mass reaches top_p (at least one token).
  size_t keep = p.size();
  if (o.top_p < 1.0) {
    double mass = 0.0;
    for (size_t i = 0; i < p.size(); ++i) {
      mass += p[i] / total;
      if (mass >= o.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double kept_total = 0.0;
  for (size_t i = 0; i < keep; ++i) kept_total += p[i];
  float u = 0.0f;
  rng.uniform(&u, 1);
  double acc = 0.0;
  const double target = static_cast<double>(u) * kept_total;
  for (size_t i = 0; i < keep; ++i) {
    acc += p[i];
    if (target < acc) return order[i];
  }
  return order[keep - 1];
}

}  // namespace sy::trainer
