// The Hugging Face side of a Switchyard model: config.json <-> Config, the tensor layout an export
// holds (names and shapes of shared/MODEL.md, "Export format"), and the checks that say whether
// an export loads unchanged as transformers' MixtralForCausalLM. docs/EXPORT.md is the reference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/common/json.h"
#include "trainer/config/config.h"

namespace sy::trainer {

inline constexpr const char* kHfConfigFile = "config.json";
inline constexpr const char* kHfGenerationConfigFile = "generation_config.json";
inline constexpr const char* kHfWeightsFile = "model.safetensors";
inline constexpr const char* kHfIndexFile = "model.safetensors.index.json";
inline constexpr const char* kSpTokenizerFile = "tokenizer.model";
inline constexpr const char* kByteTokenizerFile = "switchyard_tokenizer.json";
inline constexpr const char* kCheckLogitsFile = "switchyard_check.safetensors";
// The version of the "switchyard" object of config.json this build writes (and the newest it
// reads).
inline constexpr int64_t kSwitchyardExportVersion = 1;

// What config.json records beside the architecture.
struct HfExportInfo {
  int32_t bos_token_id = 0;
  int32_t eos_token_id = 0;             // the tokenizer's end-of-text id
  std::string torch_dtype = "float32";  // "float32" or "bfloat16": the tensors' dtype on disk
  std::string tokenizer = "byte";       // "byte" or "sentencepiece"
  int64_t step = 0;                     // the training step the weights come from
  bool has_switchyard = false;          // (when read) whether config.json has a "switchyard" object
};

// config.json for a model: the MixtralConfig keys and the "switchyard" extension object.
Json hf_config_json(const Config& config, const HfExportInfo& info);

// A Config from a parsed config.json (`path` names it in messages). The model and moe sections come
// from the file (the "switchyard" object, when present, restores what MixtralConfig has no key
// for; without it: every layer MoE, normalize_topk, softmax router, dropless); train.seq_len is
// switchyard.train_seq_len, else min(max_position_embeddings, 2048); everything else keeps its
// default (the required train keys stay 0). Missing keys, wrong types and values Switchyard cannot
// represent are kBadInput naming the file and the key. `info` (optional) receives the token ids,
// dtype, tokenizer kind and step.
Config config_from_hf_json(const Json& root, const std::string& path, HfExportInfo* info);

// One tensor of the export layout.
struct HfTensorSpec {
  std::string name;
  std::vector<int64_t> shape;
};

// Every tensor an export of this config holds, in the model's parameter order (embeddings, each
// layer, final norm, lm_head); the noisy router's noise.weight is not part of it.
std::vector<HfTensorSpec> hf_tensor_layout(const Config& config);

// Why an export of this config would not load unchanged as MixtralForCausalLM (dense layers,
// normalize_topk false, the noisy router, expert capacity, tied embeddings); empty when it would.
std::vector<std::string> mixtral_compatibility_issues(const Config& config);

// Whether a parameter name is left out of exports (the noisy router's noise.weight).
bool is_export_excluded(const std::string& parameter_name);

}  // namespace sy::trainer
