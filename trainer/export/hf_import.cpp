// Import: config.json through config_from_hf_json, the weight files (single or sharded with an
// index) through the validating safetensors reader, then one pass of copies into the model.
#include "trainer/export/hf_import.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "trainer/checkpoint/safetensors.h"
#include "trainer/common/json.h"
#include "trainer/data/tokenizer.h"

namespace sy::trainer {

namespace fs = std::filesystem;

namespace {

std::string join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

std::string shape_string(const std::vector<int64_t>& shape) {
  return core::Shape(shape).to_string();
}

// The weight files of a directory and which file holds each tensor.
struct WeightFiles {
  std::string source;  // model.safetensors or the index, for "missing tensor" messages
  std::vector<std::unique_ptr<SafetensorsFile>> files;
  std::map<std::string, const SafetensorsFile*> owner;
};

WeightFiles open_index(const std::string& dir) {
  WeightFiles w;
  w.source = join(dir, kHfIndexFile);
  const Json root = read_json_file(w.source);
  const auto bad = [&](const std::string& what) {
    SY_FAIL(ErrorKind::kBadInput, w.source, ": ", what);
  };
  if (root.kind() != Json::Kind::kObject) bad("expected a JSON object");
  if (const Json* meta = root.find("metadata")) {
    if (meta->kind() != Json::Kind::kObject) bad("key \"metadata\": expected an object");
  }
  const Json* map = root.find("weight_map");
  if (map == nullptr) bad("missing key \"weight_map\"");
  if (map->kind() != Json::Kind::kObject) bad("key \"weight_map\": expected an object");
  std::map<std::string, std::string> file_of;  // tensor -> file name
  std::map<std::string, const SafetensorsFile*> opened;
  for (const auto& member : map->members()) {
    const std::string& tensor = member.first;
    const Json& file = member.second;
    const auto key = [&] { return "weight_map[\"" + tensor + "\"]: "; };
    if (file.kind() != Json::Kind::kString) bad(key() + "expected a file name string");
    const std::string& name = file.as_string();
    if (name.empty() || name == "." || name == ".." ||
        name.find_first_of("/\\") != std::string::npos) {
      bad(key() + "\"" + name + "\" is not a file name in the directory");
    }
    file_of[tensor] = name;
    if (opened.count(name) == 0) {
      w.files.push_back(std::make_unique<SafetensorsFile>(read_safetensors(join(dir, name))));
      opened[name] = w.files.back().get();
    }
  }
  for (const auto& [tensor, name] : file_of) {
    if (!opened[name]->has(tensor)) {
      SY_FAIL(ErrorKind::kBadInput, w.source, ": weight_map puts tensor \"", tensor, "\" in ", name,
              ", which does not hold it");
    }
    w.owner[tensor] = opened[name];
  }
  for (const auto& [name, f] : opened) {
    for (const std::string& tensor : f->names()) {
      const auto it = file_of.find(tensor);
      if (it == file_of.end()) {
        SY_FAIL(ErrorKind::kBadInput, f->path(), ": tensor \"", tensor,
                "\" is not in the weight_map of ", w.source);
      }
      if (it->second != name) {
        SY_FAIL(ErrorKind::kBadInput, f->path(), ": tensor \"", tensor, "\" is also here, but ",
                w.source, " puts it in ", it->second);
      }
    }
  }
  return w;
}

WeightFiles open_weights(const std::string& dir) {
  const std::string single = join(dir, kHfWeightsFile);
  std::error_code ec;
  if (fs::exists(single, ec)) {
    WeightFiles w;
    w.source = single;
    w.files.push_back(std::make_unique<SafetensorsFile>(read_safetensors(single)));
    for (const std::string& name : w.files[0]->names()) w.owner[name] = w.files[0].get();
    return w;
  }
  if (fs::exists(join(dir, kHfIndexFile), ec)) return open_index(dir);
  SY_FAIL(ErrorKind::kBadInput, dir, ": no ", kHfWeightsFile, " and no ", kHfIndexFile);
}

}  // namespace

bool is_hf_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(join(path, kHfConfigFile), ec);
}

std::string hf_tokenizer_spec(const std::string& dir) {
  std::error_code ec;
  std::string sp = join(dir, kSpTokenizerFile);
  if (fs::exists(sp, ec)) return sp;
  const std::string byte = join(dir, kByteTokenizerFile);
  if (!fs::exists(byte, ec)) return "";
  const Json j = read_json_file(byte);
  SY_REQUIRE(ErrorKind::kBadInput, j.kind() == Json::Kind::kObject, byte,
             ": expected a JSON object");
  const Json* type = j.find("type");
  SY_REQUIRE(ErrorKind::kBadInput,
             type != nullptr && type->kind() == Json::Kind::kString && type->as_string() == "byte",
             byte, ": key \"type\": expected \"byte\"");
  for (const auto& [key, value] : j.members()) {
    if (key == "type") continue;
    const int64_t want = key == "vocab_size" ? ByteTokenizer::kVocabSize
                         : key == "eot_id"   ? int64_t{ByteTokenizer::kEotId}
                                             : int64_t{-1};
    SY_REQUIRE(ErrorKind::kBadInput, want >= 0, byte, ": key \"", key, "\": unknown key");
    SY_REQUIRE(ErrorKind::kBadInput, value.kind() == Json::Kind::kInt && value.as_int() == want,
               byte, ": key \"", key, "\": expected ", want, " (the byte tokenizer's)");
  }
  return "byte";
}

Config config_from_hf(const std::string& dir, HfExportInfo* info) {
  std::error_code ec;
  SY_REQUIRE(ErrorKind::kBadInput, fs::is_directory(dir, ec), dir, ": not a directory");
  const std::string path = join(dir, kHfConfigFile);
  Config c = config_from_hf_json(read_json_file(path), path, info);
  c.data.tokenizer = hf_tokenizer_spec(dir);
  return c;
}

void import_hf_weights(const std::string& dir, core::nn::Module& model,
                       const std::function<bool(const std::string&)>& held_elsewhere) {
  const std::string config_path = join(dir, kHfConfigFile);
  const Config config = config_from_hf(dir);
  const std::vector<HfTensorSpec> layout = hf_tensor_layout(config);
  std::map<std::string, const HfTensorSpec*> spec_of;
  for (const HfTensorSpec& s : layout) spec_of[s.name] = &s;

  // The files against the layout: nothing unexpected, dtypes, shapes, nothing missing.
  const WeightFiles w = open_weights(dir);
  for (const auto& [name, file] : w.owner) {
    const auto it = spec_of.find(name);
    SY_REQUIRE(ErrorKind::kBadInput, it != spec_of.end(), file->path(), ": unexpected tensor \"",
               name, "\" (not a parameter of the model ", config_path, " describes)");
    const SafetensorsEntry& e = file->entry(name);
    SY_REQUIRE(ErrorKind::kBadInput, e.dtype != SafetensorsDType::kI32, file->path(), ": tensor \"",
               name, "\" has dtype I32 (weights must be F32, BF16 or F16)");
    SY_REQUIRE(ErrorKind::kBadInput, e.shape == it->second->shape, file->path(), ": tensor \"",
               name, "\" has shape ", shape_string(e.shape), " but ", config_path, " implies ",
               shape_string(it->second->shape));
  }
  const bool tied_head = config.model.tie_word_embeddings && w.owner.count("lm_head.weight") == 0;
  for (const HfTensorSpec& s : layout) {
    if (tied_head && s.name == "lm_head.weight") continue;
    SY_REQUIRE(ErrorKind::kBadInput, w.owner.count(s.name) != 0, w.source, ": missing tensor \"",
               s.name, "\" (", config_path, " implies shape ", shape_string(s.shape), ")");
  }

  // The model against the layout: the caller built it from a config with the same architecture.
  std::vector<core::nn::NamedParameter> params;
  for (core::nn::NamedParameter& p : model.named_parameters()) {
    if (is_export_excluded(p.name)) continue;
    const auto it = spec_of.find(p.name);
    SY_REQUIRE(ErrorKind::kBadInput, it != spec_of.end(), config_path,
               ": describes a different model: it has no parameter \"", p.name,
               "\" (do the model and moe settings match the export?)");
    SY_REQUIRE(ErrorKind::kBadInput, p.tensor.shape() == core::Shape(it->second->shape),
               config_path, ": describes a different model: \"", p.name, "\" is ",
               shape_string(it->second->shape), " there but ", p.tensor.shape().to_string(),
               " in the model (do the model and moe settings match the export?)");
    params.push_back(p);
  }
  size_t expected = layout.size();
  if (held_elsewhere) {
    for (const HfTensorSpec& s : layout) expected -= held_elsewhere(s.name) ? 1 : 0;
  }
  SY_REQUIRE(ErrorKind::kBadInput, params.size() == expected, config_path,
             ": describes a different model: ", expected, " tensors there, ", params.size(),
             " exportable parameters in the model (do the model and moe settings match?)");

  // Read everything, then write the parameters.
  std::vector<core::Tensor> values;
  values.reserve(params.size());
  for (const core::nn::NamedParameter& p : params) {
    const std::string source =
        tied_head && p.name == "lm_head.weight" ? std::string("model.embed_tokens.weight") : p.name;
    values.push_back(w.owner.at(source)->tensor(source));
  }
  for (size_t i = 0; i < params.size(); ++i) params[i].tensor.copy_(values[i]);
}

std::vector<std::string> hf_architecture_mismatches(const Config& exported, const Config& run) {
  std::vector<std::string> out;
  const auto cmp = [&](const char* key, auto a, auto b) {
    if (a == b) return;
    const auto text = [](auto v) -> std::string {
      if constexpr (std::is_same_v<decltype(v), bool>) return v ? "true" : "false";
      if constexpr (std::is_same_v<decltype(v), double>) return format_json_double(v);
      if constexpr (std::is_same_v<decltype(v), int>) return std::to_string(v);
    };
    out.push_back(std::string(key) + ": " + text(a) + " in the export, " + text(b) + " in the run");
  };
  const ModelConfig &a = exported.model, &b = run.model;
  cmp("model.vocab_size", a.vocab_size, b.vocab_size);
  cmp("model.hidden_size", a.hidden_size, b.hidden_size);
  cmp("model.num_layers", a.num_layers, b.num_layers);
  cmp("model.num_heads", a.num_heads, b.num_heads);
  cmp("model.num_kv_heads", a.num_kv_heads > 0 ? a.num_kv_heads : a.num_heads,
      b.num_kv_heads > 0 ? b.num_kv_heads : b.num_heads);
  cmp("model.rope_theta", a.rope_theta, b.rope_theta);
  cmp("model.rms_norm_eps", a.rms_norm_eps, b.rms_norm_eps);
  cmp("moe.enabled", exported.moe.enabled, run.moe.enabled);
  for (int l = 0; l < std::min(a.num_layers, b.num_layers); ++l) {
    if (exported.is_moe_layer(l) != run.is_moe_layer(l)) {
      out.push_back("layer " + std::to_string(l) + " is " +
                    (exported.is_moe_layer(l) ? "MoE" : "dense") + " in the export, " +
                    (run.is_moe_layer(l) ? "MoE" : "dense") + " in the run (moe.every, " +
                    "moe.first_layer)");
    }
  }
  if (exported.num_moe_layers() < a.num_layers) {
    cmp("model.intermediate_size", a.intermediate_size, b.intermediate_size);
  }
  if (exported.num_moe_layers() > 0) {
    cmp("expert width (moe.intermediate_size)", exported.expert_intermediate_size(),
        run.expert_intermediate_size());
    cmp("moe.num_experts", exported.moe.num_experts, run.moe.num_experts);
    cmp("moe.top_k", exported.moe.top_k, run.moe.top_k);
    cmp("moe.normalize_topk", exported.moe.normalize_topk, run.moe.normalize_topk);
  }
  return out;
}

void init_from_hf(const std::string& dir, const Config& run_config, core::nn::Module& model,
                  const std::function<bool(const std::string&)>& held_elsewhere) {
  std::error_code ec;
  SY_REQUIRE(ErrorKind::kUsage, fs::exists(dir, ec), "model.init_from: '", dir, "' does not exist");
  const std::vector<std::string> mismatches =
      hf_architecture_mismatches(config_from_hf(dir), run_config);
  if (!mismatches.empty()) {
    std::string all;
    for (const std::string& m : mismatches) all += "; " + m;
    SY_FAIL(ErrorKind::kUsage, "model.init_from: ", join(dir, kHfConfigFile),
            " describes another architecture than the run's config", all);
  }
  import_hf_weights(dir, model, held_elsewhere);
}

}  // namespace sy::trainer
