// Importing a Hugging Face Mixtral directory (a Switchyard export, or a transformers checkpoint of
// the same layout): its config and its weights, every file validated first (docs/EXPORT.md,
// "Import validation").
//
//   Config c = config_from_hf(dir);                        // model + moe sections from config.json
//   core::nn::Decoder model(decoder_options(c));
//   import_hf_weights(dir, model);                          // all-or-nothing
//
// Every problem with the directory is a sy::Error of kind kBadInput (exit code 3) whose message
// names the file and the key or tensor.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/nn/module.h"
#include "trainer/config/config.h"
#include "trainer/export/hf_config.h"

namespace sy::trainer {

// Whether `path` is a directory holding config.json (what load_model treats as an export).
bool is_hf_directory(const std::string& path);

// DIR/config.json as a Config (see config_from_hf_json: the model and moe sections, train.seq_len,
// and data.tokenizer = hf_tokenizer_spec(dir)); `info` (optional) receives the token ids, dtype,
// tokenizer kind and step it records.
Config config_from_hf(const std::string& dir, HfExportInfo* info = nullptr);

// The tokenizer of an export directory as a spec for open_tokenizer(): DIR/tokenizer.model when
// present, "byte" when switchyard_tokenizer.json says so, else "" (none). A malformed
// switchyard_tokenizer.json is kBadInput naming it.
std::string hf_tokenizer_spec(const std::string& dir);

// Loads the weights of DIR into `model`, whose parameters must be the layout of DIR/config.json
// (build it from config_from_hf(dir), or from a config with the same model and moe sections).
// Reads model.safetensors, or model.safetensors.index.json and its shards, through the validating
// safetensors reader; requires every tensor of the layout, nothing else, shapes as config.json
// implies, dtype F32, BF16 or F16 (converted to float32). lm_head.weight may be absent when
// config.json sets tie_word_embeddings (it is then a copy of model.embed_tokens.weight). The noisy
// router's noise.weight is not in exports and keeps its value. Everything is read and checked
// before any parameter is written, so a failed import leaves the model as it was.
// `held_elsewhere`, when set, names the layout's tensors this model does not hold (the experts of
// other ranks under expert parallelism): they are checked in the files but not loaded.
void import_hf_weights(const std::string& dir, core::nn::Module& model,
                       const std::function<bool(const std::string&)>& held_elsewhere = {});

// What differs between the architecture of an export (config_from_hf) and a run's config, as
// "model.rope_theta: 10000 in the export, 500 in the run" lines: every setting that changes the
// function the weights compute (sizes, layer kinds, experts, top-k, normalize_topk, rope_theta,
// rms_norm_eps). Training-only settings (router noise, capacity, loss coefficients, init_std,
// max_position_embeddings) may differ.
std::vector<std::string> hf_architecture_mismatches(const Config& exported, const Config& run);

// model.init_from for the trainer: loads the export at `dir` into `model` (built from
// `run_config`). A dir that does not exist, or whose architecture differs from run_config's
// (hf_architecture_mismatches), is kUsage naming model.init_from; a bad export is kBadInput.
void init_from_hf(const std::string& dir, const Config& run_config, core::nn::Module& model,
                  const std::function<bool(const std::string&)>& held_elsewhere = {});

}  // namespace sy::trainer
