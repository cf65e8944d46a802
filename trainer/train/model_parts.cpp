#include "trainer/train/model_parts.h"

#include <cstdlib>

namespace sy::trainer {

namespace {

constexpr const char* kExpertsInfix = ".block_sparse_moe.experts.";
constexpr const char* kLayersPrefix = "model.layers.";

// The decimal number at `at` in name, followed by '.', or -1.
int64_t index_at(const std::string& name, size_t at) {
  const char* digits = name.c_str() + at;
  char* end = nullptr;
  const long long v = std::strtoll(digits, &end, 10);
  return end != digits && *end == '.' && v >= 0 && digits[0] != '-' && digits[0] != '+' ? v : -1;
}

}  // namespace

bool is_expert_parameter(const std::string& name) { return expert_index(name) >= 0; }

int64_t expert_index(const std::string& name) {
  const size_t at = name.find(kExpertsInfix);
  if (at == std::string::npos) return -1;
  return index_at(name, at + std::char_traits<char>::length(kExpertsInfix));
}

int64_t layer_index(const std::string& name) {
  if (name.rfind(kLayersPrefix, 0) != 0) return -1;
  return index_at(name, std::char_traits<char>::length(kLayersPrefix));
}

ParameterFilter experts_held_elsewhere(const core::nn::ExpertShard& shard) {
  if (shard.count < 0) return {};
  return [shard](const std::string& name) {
    const int64_t e = expert_index(name);
    return e >= 0 && (e < shard.first || e >= shard.first + shard.count);
  };
}

ParameterFilter parameters_held_elsewhere(const core::nn::DecoderOptions& part) {
  const bool all_experts = part.expert_shard.holds_all(part.router.num_experts);
  if (part.whole_model() && all_experts) return {};
  const ParameterFilter other_experts = experts_held_elsewhere(part.expert_shard);
  // Only names of the whole model: a layer or expert index past the model's is nobody's, so it
  // stays an error on the rank that sees it.
  return [part, other_experts](const std::string& name) {
    const int64_t layer = layer_index(name);
    if (layer >= 0) {
      if (layer >= part.num_layers) return false;
      if (expert_index(name) >= part.router.num_experts) return false;
      if (layer < part.first_layer || layer >= part.stage_end()) return true;
      return other_experts && other_experts(name);
    }
    if (name == "model.embed_tokens.weight") return !part.has_embedding();
    if (name == "model.norm.weight" || name == "lm_head.weight") return !part.has_head();
    return false;
  };
}

ParameterSplit split_parameters(const std::vector<core::nn::NamedParameter>& params) {
  ParameterSplit split;
  for (const core::nn::NamedParameter& p : params) {
    (is_expert_parameter(p.name) ? split.experts : split.replicated).push_back(p);
  }
  return split;
}

std::string save_checkpoint_collective(const std::string& run_dir, const core::nn::Module& model,
                                       const AdamW& opt, const CheckpointState& st, int keep_last,
                                       int keep_every, const parallel::ProcessGrid& grid) {
  parallel::Communicator& world = grid.world();
  const bool root = world.rank() == 0;
  std::string file = root ? begin_checkpoint(run_dir, st.step) : std::string();
  int64_t length = static_cast<int64_t>(file.size());
  world.broadcast(&length, sizeof(length), 0);
  file.resize(static_cast<size_t>(length));
  world.broadcast(file.data(), length, 0);

  // One writer at a time (serial HDF5): the first replica of every expert shard of every stage,
  // in (stage, ep rank) order.
  const parallel::Coordinates& c = grid.coords();
  for (int stage = 0; stage < grid.pp(); ++stage) {
    for (int shard = 0; shard < grid.ep(); ++shard) {
      if (c.expert_replica == 0 && c.pp_stage == stage && c.ep_index == shard) {
        if (stage == 0 && shard == 0) {
          write_checkpoint_file(file, model, &opt, st);
        } else if (shard == 0) {
          append_checkpoint_tensors(file, model, &opt, {});  // the stage's parameters
        } else {
          append_checkpoint_tensors(file, model, &opt, is_expert_parameter);
        }
      }
      world.barrier();
    }
  }
  std::string dir;
  if (root) dir = publish_checkpoint(run_dir, file, st.step, keep_last, keep_every);
  world.barrier();
  return dir;
}

}  // namespace sy::trainer
