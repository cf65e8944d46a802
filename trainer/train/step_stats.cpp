#include "trainer/train/step_stats.h"

#include <algorithm>

namespace sy::trainer {

void StepTotals::add_routing(const core::nn::MoeStats& s) {
  if (per_expert.empty()) per_expert.assign(s.tokens_per_expert.size(), 0);
  int64_t max_count = 0;
  for (size_t e = 0; e < s.tokens_per_expert.size(); ++e) {
    per_expert[e] += s.tokens_per_expert[e];
    max_count = std::max(max_count, s.tokens_per_expert[e]);
  }
  const double mean = static_cast<double>(s.assignments) / s.tokens_per_expert.size();
  max_load_sum += mean > 0 ? max_count / mean : 0.0;
  entropy_sum += s.entropy;
  assignments += s.assignments;
  dropped += s.dropped;
  ++layer_passes;
}

void StepTotals::all_reduce(parallel::Communicator& group) {
  if (group.size() == 1) return;
  double sums[5] = {ce, aux, z, max_load_sum, entropy_sum};
  group.all_reduce(sums, 5, parallel::ReduceOp::kSum);
  ce = sums[0], aux = sums[1], z = sums[2], max_load_sum = sums[3], entropy_sum = sums[4];
  int64_t counts[3] = {assignments, dropped, layer_passes};
  group.all_reduce(counts, 3, parallel::ReduceOp::kSum);
  assignments = counts[0], dropped = counts[1], layer_passes = counts[2];
  // A stage without MoE layers has no per-expert counts: agree on the length first.
  int64_t experts = static_cast<int64_t>(per_expert.size());
  group.all_reduce(&experts, 1, parallel::ReduceOp::kMax);
  per_expert.resize(static_cast<size_t>(experts), 0);
  if (experts > 0) group.all_reduce(per_expert.data(), experts, parallel::ReduceOp::kSum);
}

}  // namespace sy::trainer
