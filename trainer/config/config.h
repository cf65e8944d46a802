// The experiment configuration: one plain struct per YAML section, with the documented defaults,
// and the derived quantities the trainer needs (head width, expert width, MoE layer choice,
// micro-batches and tokens per step).
//
// docs/CONFIG.md is the reference for every key (type, default, range, meaning). The loader
// (config_loader.h) fills these structs from YAML and validates every key; a Config built in code
// can be checked with validate_config().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sy::trainer {

// The enumerated settings. Their YAML spellings are in EnumNames<E>::kNames, in value order.
enum class PipelineSchedule { kGpipe, k1f1b };
enum class DropPolicy { kProbs, kPosition };
enum class RouterKind { kSoftmax, kNoisyTopk };
enum class LrScheduleKind { kCosine, kConstant };
enum class ProgressMode { kAuto, kOn, kOff };

template <typename E>
struct EnumNames;
template <>
struct EnumNames<PipelineSchedule> {
  static constexpr std::array<std::string_view, 2> kNames = {"gpipe", "1f1b"};
};
template <>
struct EnumNames<DropPolicy> {
  static constexpr std::array<std::string_view, 2> kNames = {"probs", "position"};
};
template <>
struct EnumNames<RouterKind> {
  static constexpr std::array<std::string_view, 2> kNames = {"softmax", "noisy_topk"};
};
template <>
struct EnumNames<LrScheduleKind> {
  static constexpr std::array<std::string_view, 2> kNames = {"cosine", "constant"};
};
template <>
struct EnumNames<ProgressMode> {
  static constexpr std::array<std::string_view, 3> kNames = {"auto", "on", "off"};
};

// The YAML spelling of an enumerated setting, e.g. enum_name(LrScheduleKind::kCosine) == "cosine".
template <typename E>
constexpr std::string_view enum_name(E value) {
  return EnumNames<E>::kNames[static_cast<std::size_t>(value)];
}

struct RunConfig {
  std::string dir = "runs/default";
  int64_t seed = 1234;
  bool operator==(const RunConfig&) const = default;
};

// Required keys (vocab_size, hidden_size, num_layers, num_heads, intermediate_size) default to
// 0 here, which validation rejects; num_kv_heads 0 means "not set" and the loader resolves it to
// num_heads.
struct ModelConfig {
  int vocab_size = 0;         // V
  int hidden_size = 0;        // D
  int num_layers = 0;         // L
  int num_heads = 0;          // H
  int num_kv_heads = 0;       // Hkv
  int intermediate_size = 0;  // F of dense layers (and of experts unless moe.intermediate_size)
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  int max_position_embeddings = 4096;
  bool tie_word_embeddings = false;
  double init_std = 0.02;
  std::string init_from;  // a Hugging Face Mixtral directory; empty = random init
  bool operator==(const ModelConfig&) const = default;
};

struct MoeConfig {
  bool enabled = true;  // false: every layer is a dense SwiGLU
  int num_experts = 8;  // E
  int top_k = 2;        // K
  int every = 1;        // layer l is MoE when l >= first_layer and (l - first_layer) % every == 0
  int first_layer = 0;
  double capacity_factor = 0.0;  // <= 0: dropless
  DropPolicy drop_policy = DropPolicy::kProbs;
  bool normalize_topk = true;
  RouterKind router = RouterKind::kSoftmax;
  double aux_loss_coef = 0.01;
  double z_loss_coef = 0.001;
  int intermediate_size = 0;  // expert width F; 0 = model.intermediate_size
  bool operator==(const MoeConfig&) const = default;
};

struct ParallelConfig {
  int dp = 1;
  int ep = 1;
  int pp = 1;
  PipelineSchedule pipeline_schedule = PipelineSchedule::k1f1b;
  // Layers per pipeline stage, "2,3,3"; empty: balanced by compute (trainer/train/model_builder).
  std::string stage_layers;
  // Every step, check that the ranks issued matching collective and point-to-point calls, and
  // name the first difference (exit 5) instead of hanging on it.
  bool debug_comm = false;
  bool operator==(const ParallelConfig&) const = default;
};

struct TrainConfig {
  int steps = 0;              // required
  int global_batch_size = 0;  // required: sequences per optimizer step
  int micro_batch_size = 0;   // required: sequences per micro-batch
  int seq_len = 0;            // required: T
  int eval_every = 0;         // steps; 0 = only at the end
  int eval_windows = 16;
  bool operator==(const TrainConfig&) const = default;
};

struct OptimConfig {
  double lr = 0.0;  // required
  double min_lr = 0.0;
  int warmup_steps = 0;
  LrScheduleKind schedule = LrScheduleKind::kCosine;
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double grad_clip = 1.0;  // <= 0 disables clipping
  bool operator==(const OptimConfig&) const = default;
};

struct DataConfig {
  std::string train;      // required: a token shard
  std::string val;        // empty: no validation
  std::string tokenizer;  // SentencePiece model path, "byte", or empty = from the shard's folder
  bool operator==(const DataConfig&) const = default;
};

struct CheckpointConfig {
  int every = 0;                // steps; 0 = only at the end
  std::string resume = "auto";  // "auto" | "none" | a checkpoint or run directory
  int keep_last = 3;
  int keep_every = 0;  // also keep every checkpoint whose step is a multiple; 0 = none
  bool operator==(const CheckpointConfig&) const = default;
};

struct LogConfig {
  int every = 1;
  ProgressMode progress = ProgressMode::kAuto;
  bool operator==(const LogConfig&) const = default;
};

struct Config {
  RunConfig run;
  ModelConfig model;
  MoeConfig moe;
  ParallelConfig parallel;
  TrainConfig train;
  OptimConfig optim;
  DataConfig data;
  CheckpointConfig checkpoint;
  LogConfig log;

  bool operator==(const Config&) const = default;

  // hd = D / H.
  int head_dim() const { return model.hidden_size / model.num_heads; }
  // The expert width F: moe.intermediate_size, or model.intermediate_size when that is 0.
  int expert_intermediate_size() const {
    return moe.intermediate_size > 0 ? moe.intermediate_size : model.intermediate_size;
  }
  // Whether layer l (0-based) has an MoE FFN rather than a dense SwiGLU.
  bool is_moe_layer(int l) const {
    return moe.enabled && moe.every > 0 && l >= moe.first_layer && l < model.num_layers &&
           (l - moe.first_layer) % moe.every == 0;
  }
  // The number of MoE layers.
  int num_moe_layers() const {
    int n = 0;
    for (int l = 0; l < model.num_layers; ++l) n += is_moe_layer(l) ? 1 : 0;
    return n;
  }
  // M = global_batch_size / micro_batch_size.
  int micro_batches_per_step() const { return train.global_batch_size / train.micro_batch_size; }
  // Tokens per optimizer step: global_batch_size * seq_len.
  int64_t tokens_per_step() const {
    return static_cast<int64_t>(train.global_batch_size) * train.seq_len;
  }
};

}  // namespace sy::trainer
