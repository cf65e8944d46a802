#include "trainer/train/expert_parallel.h"

#include <cstdlib>

namespace sy::trainer {

namespace {

constexpr const char* kExpertsInfix = ".block_sparse_moe.experts.";

}  // namespace

bool is_expert_parameter(const std::string& name) { return expert_index(name) >= 0; }

int64_t expert_index(const std::string& name) {
  const size_t at = name.find(kExpertsInfix);
  if (at == std::string::npos) return -1;
  const char* digits = name.c_str() + at + std::char_traits<char>::length(kExpertsInfix);
  char* end = nullptr;
  const long long e = std::strtoll(digits, &end, 10);
  return end != digits && *end == '.' && e >= 0 ? e : -1;
}

ParameterFilter experts_held_elsewhere(const core::nn::ExpertShard& shard) {
  if (shard.count < 0) return {};
  return [shard](const std::string& name) {
    const int64_t e = expert_index(name);
    return e >= 0 && (e < shard.first || e >= shard.first + shard.count);
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

  // One writer at a time (serial HDF5): the first replica of every expert shard, in ep order.
  const parallel::Coordinates& c = grid.coords();
  const bool writer = c.expert_replica == 0 && c.pp_stage == 0;
  for (int turn = 0; turn < grid.ep(); ++turn) {
    if (writer && c.ep_index == turn) {
      if (turn == 0) {
        write_checkpoint_file(file, model, &opt, st);
      } else {
        append_checkpoint_tensors(file, model, &opt, is_expert_parameter);
      }
    }
    world.barrier();
  }
  std::string dir;
  if (root) dir = publish_checkpoint(run_dir, file, st.step, keep_last, keep_every);
  world.barrier();
  return dir;
}

}  // namespace sy::trainer
