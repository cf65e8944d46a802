// The part of the model a rank holds under expert and pipeline parallelism, in parameter names:
// which parameters are expert shards (averaged over the expert-data-parallel group, not the whole
// dp group), which belong to other ranks (skipped when loading a global checkpoint or export), and
// the checkpoint save in which every part's holder writes it into the one global file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/nn/decoder.h"
#include "core/nn/module.h"
#include "core/nn/moe/expert_exchange.h"
#include "parallel/grid/process_grid.h"
#include "trainer/checkpoint/checkpoint.h"

namespace sy::trainer {

// True for the parameters of an expert: "model.layers.{l}.block_sparse_moe.experts.{e}.*".
bool is_expert_parameter(const std::string& name);
// The expert index e of an expert parameter's name, -1 for any other name.
int64_t expert_index(const std::string& name);
// The layer index l of a "model.layers.{l}.*" name, -1 for any other name.
int64_t layer_index(const std::string& name);
// The expert parameters of experts outside `shard` (what other ranks hold); an empty filter when
// the shard holds every expert.
ParameterFilter experts_held_elsewhere(const core::nn::ExpertShard& shard);
// Every parameter of the whole model that a decoder built with `part` does not hold: other
// stages' layers, embedding, final norm and head, and other shards' experts. Names past the
// model's layers or experts are not held anywhere (false). Empty for the whole model.
ParameterFilter parameters_held_elsewhere(const core::nn::DecoderOptions& part);

struct ParameterSplit {
  std::vector<core::nn::NamedParameter> replicated;  // the same on every dp rank of a stage
  std::vector<core::nn::NamedParameter> experts;     // this rank's expert shard
};
ParameterSplit split_parameters(const std::vector<core::nn::NamedParameter>& params);

// Collective over grid.world(): saves RUN_DIR's checkpoint for st.step with every tensor global.
// The ranks of the first expert replica of every stage write in turn, one file, in (stage, ep
// rank) order: world rank 0 creates it with the run state and its parameters, the first ep rank
// of each later stage adds its stage's parameters, the other ep ranks their experts; rank 0 then
// publishes it. Returns the checkpoint directory on rank 0, "" elsewhere.
std::string save_checkpoint_collective(const std::string& run_dir, const core::nn::Module& model,
                                       const AdamW& opt, const CheckpointState& st, int keep_last,
                                       int keep_every, const parallel::ProcessGrid& grid);

}  // namespace sy::trainer
