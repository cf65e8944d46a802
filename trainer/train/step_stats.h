// The statistics of one training step, accumulated over this rank's micro-batches and then summed
// over every rank (each data-parallel rank adds its micro-batches, each pipeline stage its layers
// and, on the last stage, the cross-entropy).
#pragma once

#include <cstdint>
#include <vector>

#include "core/nn/moe/moe_layer.h"
#include "parallel/comm/communicator.h"

namespace sy::trainer {

struct StepTotals {
  double ce = 0, aux = 0, z = 0;  // sums over micro-batches (aux, z also over MoE layers)
  std::vector<int64_t> per_expert;
  int64_t assignments = 0, dropped = 0;
  double max_load_sum = 0, entropy_sum = 0;
  int64_t layer_passes = 0;  // MoE layer forward passes counted above

  void add_routing(const core::nn::MoeStats& s);
  // Sums every field over `group`'s ranks (identity on one rank).
  void all_reduce(parallel::Communicator& group);
};

}  // namespace sy::trainer
