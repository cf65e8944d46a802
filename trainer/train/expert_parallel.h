// Expert parallelism in the trainer: which parameters are expert shards (and so are averaged over
// the expert-data-parallel group, not the whole dp group), and the checkpoint save in which each
// shard's holder writes its own experts into the one global file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/nn/module.h"
#include "core/nn/moe/expert_exchange.h"
#include "parallel/grid/process_grid.h"
#include "trainer/checkpoint/checkpoint.h"

namespace sy::trainer {

// True for the parameters of an expert: "model.layers.{l}.block_sparse_moe.experts.{e}.*".
bool is_expert_parameter(const std::string& name);
// The expert index e of an expert parameter's name, -1 for any other name.
int64_t expert_index(const std::string& name);
// The expert parameters of experts outside `shard` (what other ranks hold); an empty filter when
// the shard holds every expert.
ParameterFilter experts_held_elsewhere(const core::nn::ExpertShard& shard);

struct ParameterSplit {
  std::vector<core::nn::NamedParameter> replicated;  // the same on every dp rank
  std::vector<core::nn::NamedParameter> experts;     // this rank's expert shard
};
ParameterSplit split_parameters(const std::vector<core::nn::NamedParameter>& params);

// Collective over grid.world(): saves RUN_DIR's checkpoint for st.step with every tensor global.
// The ranks of the first expert replica write in turn, one file: ep rank 0 (world rank 0) creates
// it with the replicated tensors and its experts, ep ranks 1.. add theirs; rank 0 then publishes
// it. Returns the checkpoint directory on rank 0, "" elsewhere.
std::string save_checkpoint_collective(const std::string& run_dir, const core::nn::Module& model,
                                       const AdamW& opt, const CheckpointState& st, int keep_last,
                                       int keep_every, const parallel::ProcessGrid& grid);

}  // namespace sy::trainer
