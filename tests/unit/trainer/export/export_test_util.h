// Helpers of the export tests: two small configurations (all-MoE with Mixtral defaults, and a
// dense/MoE mix with every non-default MoE option), a seeded model of each with random norm and
// noise weights, a directory's files as bytes, and a model's parameters as values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/nn/decoder.h"
#include "core/tensor/rng.h"
#include "tests/unit/trainer/test_util.h"
#include "trainer/config/config.h"
#include "trainer/config/config_loader.h"
#include "trainer/train/model_builder.h"

namespace sy::trainer::testing {

enum class TinyKind { kMixtral, kDenseMoe };

inline Config tiny_export_config(TinyKind kind) {
  Config c;
  c.model.vocab_size = 260;  // the byte tokenizer's
  c.model.hidden_size = 16;
  c.model.num_layers = 3;
  c.model.num_heads = 2;
  c.model.num_kv_heads = 1;
  c.model.intermediate_size = 24;
  c.model.max_position_embeddings = 64;
  c.moe.num_experts = 4;
  c.moe.top_k = 2;
  c.moe.intermediate_size = 12;
  c.train.steps = 1;
  c.train.global_batch_size = c.train.micro_batch_size = 2;
  c.train.seq_len = 16;
  c.optim.lr = 1e-3;
  c.data.train = "unused.bin";
  if (kind == TinyKind::kDenseMoe) {  // dense, MoE, dense; every MoE option off its default
    c.model.rope_theta = 500.0;
    c.model.rms_norm_eps = 1e-6;
    c.model.init_std = 0.03;
    c.moe.first_layer = 1;
    c.moe.every = 2;
    c.moe.normalize_topk = false;
    c.moe.router = RouterKind::kNoisyTopk;
    c.moe.capacity_factor = 1.25;
    c.moe.drop_policy = DropPolicy::kPosition;
    c.moe.aux_loss_coef = 0.05;
    c.moe.z_loss_coef = 0.002;
    c.train.seq_len = 24;
  }
  validate_config(c);
  return c;
}

// Every parameter random (norms and router noise included, so nothing is at its init value).
inline std::unique_ptr<core::nn::Decoder> seeded_model(const Config& c, uint64_t seed) {
  auto m = std::make_unique<core::nn::Decoder>(decoder_options(c));
  core::Rng rng(seed);
  for (core::nn::NamedParameter& p : m->named_parameters()) {
    p.tensor.copy_(rng.uniform(p.tensor.shape(), -0.5f, 0.5f));
  }
  return m;
}

// name -> values of every parameter.
inline std::map<std::string, std::vector<float>> parameter_values(const core::nn::Module& m) {
  std::map<std::string, std::vector<float>> out;
  for (const core::nn::NamedParameter& p : m.named_parameters()) {
    out[p.name] = p.tensor.to_vector();
  }
  return out;
}

// relative name -> bytes of every file in a directory (not recursive).
inline std::map<std::string, std::string> directory_files(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out[e.path().filename().string()] = read_file(e.path());
  }
  return out;
}

}  // namespace sy::trainer::testing
