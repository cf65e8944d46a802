// export_hf(): the tensors of the layout, optionally sharded, the JSON files and the tokenizer,
// written into OUTDIR.tmp and published with one rename.
#include "trainer/export/hf_export.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <utility>

#include "core/autograd/grad_mode.h"
#include "core/common/error.h"
#include "trainer/checkpoint/checkpoint_files.h"
#include "trainer/checkpoint/safetensors.h"
#include "trainer/common/json.h"
#include "trainer/data/tokenizer.h"
#include "trainer/export/hf_config.h"

namespace sy::trainer {

namespace fs = std::filesystem;

namespace {

using NamedTensors = std::vector<std::pair<std::string, core::Tensor>>;

std::string shard_name(size_t index, size_t count) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "model-%05zu-of-%05zu.safetensors", index + 1, count);
  return buf;
}

// Greedy split in layout order: a new shard starts when the next tensor would push the current
// one past max_bytes (a tensor larger than max_bytes gets a shard of its own).
std::vector<NamedTensors> plan_shards(const NamedTensors& tensors, uint64_t bytes_per_element,
                                      uint64_t max_bytes) {
  std::vector<NamedTensors> shards(1);
  uint64_t current = 0;
  for (const auto& t : tensors) {
    const uint64_t bytes = static_cast<uint64_t>(t.second.numel()) * bytes_per_element;
    if (!shards.back().empty() && current + bytes > max_bytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(t);
    current += bytes;
  }
  return shards;
}

// The model's tensors in layout order, checked against the layout of its config.
NamedTensors layout_tensors(const Config& config, const core::nn::Decoder& model) {
  std::map<std::string, core::Tensor> by_name;
  for (const core::nn::NamedParameter& p : model.named_parameters()) {
    if (!is_export_excluded(p.name)) by_name.emplace(p.name, p.tensor);
  }
  const std::vector<HfTensorSpec> layout = hf_tensor_layout(config);
  SY_CHECK(layout.size() == by_name.size(), "export: the model has ", by_name.size(),
           " exportable parameters but its config's layout has ", layout.size());
  NamedTensors out;
  for (const HfTensorSpec& spec : layout) {
    const auto it = by_name.find(spec.name);
    SY_CHECK(it != by_name.end(), "export: the model has no parameter ", spec.name);
    SY_CHECK(it->second.shape() == core::Shape(spec.shape), "export: parameter ", spec.name,
             " has shape ", it->second.shape().to_string(), ", its config implies ",
             core::Shape(spec.shape).to_string());
    out.emplace_back(spec.name, it->second);
  }
  return out;
}

// The logits of the exported weights for check_logits_ids(): from the model itself, or from a
// copy whose weights went through the same BF16 rounding as the files.
void write_check_logits(const Config& config, const core::nn::Decoder& model, bool bfloat16,
                        const std::string& path) {
  core::NoGradGuard no_grad;
  const std::vector<int32_t> ids = check_logits_ids(config);
  const auto t = static_cast<int64_t>(ids.size());
  const core::Tensor input = core::Tensor::from_ints(ids, {1, t});
  std::unique_ptr<core::nn::Decoder> rounded;
  if (bfloat16) {
    rounded = std::make_unique<core::nn::Decoder>(model.options());
    const std::vector<core::nn::NamedParameter> from = model.named_parameters();
    std::vector<core::nn::NamedParameter> to = rounded->named_parameters();
    for (size_t i = 0; i < from.size(); ++i) {
      std::vector<float> v = from[i].tensor.to_vector();
      for (float& x : v) x = bf16_to_float(float_to_bf16(x));
      to[i].tensor.copy_(core::Tensor::from_vector(v, to[i].tensor.shape()));
    }
  }
  const core::Tensor logits = (rounded ? *rounded : model).logits(input, nullptr, false, nullptr);
  write_safetensors(path, {{"input_ids", input}, {"logits", logits.to(core::Device::cpu())}},
                    {{"format", "pt"}});
}

void copy_file_durably(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  SY_REQUIRE(ErrorKind::kInternal, !ec, "export: cannot copy ", from, " to ", to, ": ",
             ec.message());
  fsync_path(to);
}

// Writes every file into `dir` (an empty folder); returns the relative names.
std::vector<std::string> write_export_files(const Config& config, const core::nn::Decoder& model,
                                            const Tokenizer& tokenizer,
                                            const std::string& tokenizer_spec,
                                            const HfExportOptions& options, const fs::path& dir,
                                            HfExportResult& result) {
  std::vector<std::string> files;
  const auto put_json = [&](const std::string& name, const Json& value) {
    write_text_file_durably((dir / name).string(), write_json(value));
    files.push_back(name);
  };

  HfExportInfo info;
  info.bos_token_id = info.eos_token_id = tokenizer.eot_id();
  info.torch_dtype = options.bfloat16 ? "bfloat16" : "float32";
  info.tokenizer = tokenizer.name();
  info.step = options.step;
  put_json(kHfConfigFile, hf_config_json(config, info));
  Json gen = Json::object();
  gen.set("bos_token_id", Json::integer(info.bos_token_id))
      .set("eos_token_id", Json::integer(info.eos_token_id))
      .set("do_sample", Json::boolean(true))
      .set("temperature", Json::number(0.8))
      .set("top_p", Json::number(0.95));
  put_json(kHfGenerationConfigFile, gen);

  if (tokenizer.name() == "byte") {
    Json tok = Json::object();
    tok.set("type", Json::string("byte"))
        .set("vocab_size", Json::integer(tokenizer.vocab_size()))
        .set("eot_id", Json::integer(tokenizer.eot_id()));
    put_json(kByteTokenizerFile, tok);
  } else {
    copy_file_durably(tokenizer_spec, (dir / kSpTokenizerFile).string());
    files.push_back(kSpTokenizerFile);
  }

  const NamedTensors tensors = layout_tensors(config, model);
  const uint64_t element_bytes = options.bfloat16 ? 2 : 4;
  for (const auto& [name, t] : tensors) {
    result.parameters += t.numel();
    result.tensor_bytes += static_cast<uint64_t>(t.numel()) * element_bytes;
  }
  result.tensors = static_cast<int64_t>(tensors.size());
  SafetensorsWriteOptions write_options;
  write_options.float_dtype = options.bfloat16 ? SafetensorsDType::kBF16 : SafetensorsDType::kF32;
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  if (result.tensor_bytes <= options.max_shard_bytes) {
    write_safetensors((dir / kHfWeightsFile).string(), tensors, metadata, write_options);
    files.push_back(kHfWeightsFile);
  } else {
    const std::vector<NamedTensors> shards =
        plan_shards(tensors, element_bytes, options.max_shard_bytes);
    Json weight_map = Json::object();
    for (size_t i = 0; i < shards.size(); ++i) {
      const std::string name = shard_name(i, shards.size());
      write_safetensors((dir / name).string(), shards[i], metadata, write_options);
      files.push_back(name);
      for (const auto& t : shards[i]) weight_map.set(t.first, Json::string(name));
    }
    Json meta = Json::object();
    meta.set("total_size", Json::integer(static_cast<int64_t>(result.tensor_bytes)));
    Json index = Json::object();
    index.set("metadata", std::move(meta)).set("weight_map", std::move(weight_map));
    put_json(kHfIndexFile, index);
    result.shards = static_cast<int>(shards.size());
  }
  if (options.check_logits) {
    write_check_logits(config, model, options.bfloat16, (dir / kCheckLogitsFile).string());
    files.push_back(kCheckLogitsFile);
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<int32_t> check_logits_ids(const Config& config) {
  const int t = std::min(16, config.model.max_position_embeddings);
  std::vector<int32_t> ids(static_cast<size_t>(t));
  for (int i = 0; i < t; ++i) ids[static_cast<size_t>(i)] = (7 * i + 3) % config.model.vocab_size;
  return ids;
}

HfExportResult export_hf(const Config& config, const core::nn::Decoder& model,
                         const std::string& tokenizer_spec, const std::string& out_dir,
                         const HfExportOptions& options) {
  SY_REQUIRE(ErrorKind::kUsage, !out_dir.empty(), "export: OUTDIR is empty");
  SY_REQUIRE(ErrorKind::kUsage, options.max_shard_bytes > 0, "export: the shard size must be > 0");
  fs::path out = fs::absolute(out_dir).lexically_normal();
  if (!out.has_filename()) out = out.parent_path();  // "dir/" names dir
  std::error_code ec;
  if (fs::exists(out, ec)) {
    SY_REQUIRE(ErrorKind::kUsage, fs::is_directory(out, ec), "export: ", out_dir,
               " exists and is not a directory");
    SY_REQUIRE(ErrorKind::kUsage, options.overwrite || fs::is_empty(out, ec), "export: ", out_dir,
               " already exists and is not empty (remove it, or pass --force to replace it)");
  }
  const std::unique_ptr<Tokenizer> tokenizer = open_tokenizer(tokenizer_spec);
  SY_REQUIRE(ErrorKind::kBadInput, tokenizer->vocab_size() <= config.model.vocab_size,
             "export: tokenizer ", tokenizer_spec, " has ", tokenizer->vocab_size(),
             " tokens, more than model.vocab_size = ", config.model.vocab_size,
             " (pass the tokenizer the model was trained with: --tokenizer)");

  HfExportResult result;
  result.warnings = mixtral_compatibility_issues(config);
  const fs::path tmp = out.string() + ".tmp";
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  SY_REQUIRE(ErrorKind::kInternal, !ec, "export: cannot create ", tmp.string(), ": ", ec.message());
  try {
    result.files =
        write_export_files(config, model, *tokenizer, tokenizer_spec, options, tmp, result);
    fsync_path(tmp.string());
    publish_directory(tmp.string(), out.string());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  return result;
}

}  // namespace sy::trainer
